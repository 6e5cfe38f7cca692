"""Step 10: predict() validation, the module cache, PROJECT_ROOT discovery and the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import inference

SRC = os.path.join(os.path.dirname(__file__), "..", "cells", "src")


@pytest.fixture(scope="module")
def root(trained_root) -> str:
    return trained_root


@pytest.mark.parametrize("model", ["baseline", "bert"])
def test_predict_returns_top_k_labels_with_probabilities(root, model):
    out = inference.predict("Leather Running Sneaker", "trail boot sole", top_k=3, model=model, project_root_dir=root)
    assert len(out) == 3 and all(set(p) == {"label", "probability"} for p in out)
    probs = [p["probability"] for p in out]
    assert probs == sorted(probs, reverse=True) and all(0 <= p <= 1 for p in probs)
    labels = set(json.load(open(os.path.join(root, "models", "label_map.json")))["label2id"])
    assert {p["label"] for p in out} <= labels
    if model == "baseline":
        assert out[0]["label"] == "Men's Shoes"


def _sep_count(predictor, title: str, description: str) -> int:
    ids = predictor.encode([title], [description])["input_ids"][0].tolist()
    return ids.count(predictor.tokenizer.sep_token_id)


def test_bert_reads_what_it_was_trained_on_with_and_without_descriptions(root, titles_root):
    pairs = inference.get_predictor("bert", root)  # trained on rows with descriptions
    titles = inference.get_predictor("bert", titles_root)  # trained on titles only
    assert pairs.text_pair is True and titles.text_pair is False
    for r, want in ((root, True), (titles_root, False)):
        assert json.load(open(os.path.join(r, "models", "bert_final", "config.json")))["text_pair"] is want
        assert json.load(open(os.path.join(r, "models", "bert_final", "training_info.json")))["text_pair"] is want
    # title-only model: a description is never a second segment, so it changes nothing
    assert _sep_count(titles, "Usb Hub", "laptop cable adapter") == 1
    kw = dict(top_k=6, model="bert")
    assert (inference.predict("Leather Running Sneaker", "trail boot sole", project_root_dir=titles_root, **kw)
            == inference.predict("Leather Running Sneaker", "", project_root_dir=titles_root, **kw))
    # pair model: the description is the second segment, an empty one too (as in training)
    assert _sep_count(pairs, "Usb Hub", "") == 2 and _sep_count(pairs, "Usb Hub", "laptop cable") == 2
    assert (inference.predict("Leather Running Sneaker", "trail boot sole", project_root_dir=root, **kw)
            != inference.predict("Leather Running Sneaker", "", project_root_dir=root, **kw))


def test_models_are_loaded_once(root):
    a = inference.get_predictor("baseline", root)
    inference.predict("Usb Keyboard", None, model="baseline", project_root_dir=root)
    assert inference.get_predictor("baseline", root) is a


def test_top_k_larger_than_the_label_set_is_capped(root):
    assert len(inference.predict("Lego Blocks", "", top_k=50, project_root_dir=root)) == 6


@pytest.mark.parametrize("title,desc,top_k,exc", [
    ("", "x", 3, ValueError),
    ("   ", "x", 3, ValueError),
    (None, "x", 3, TypeError),
    (123, "x", 3, TypeError),
    ("ok", 5, 3, TypeError),
    ("ok", ["a"], 3, TypeError),
    ("x" * 1001, "", 3, ValueError),
    ("ok", "y" * 100_000, 3, ValueError),
    ("ok", "", 0, ValueError),
    ("ok", "", True, TypeError),
    ("ok", "", "3", TypeError),
])
def test_bad_input_gives_clear_errors(root, title, desc, top_k, exc):
    with pytest.raises(exc):
        inference.predict(title, desc, top_k=top_k, project_root_dir=root)


def test_unknown_model_kind_and_missing_files(tmp_path, root):
    with pytest.raises(ValueError, match="model must be one of"):
        inference.predict("ok", "", model="gpt", project_root_dir=root)
    with pytest.raises(FileNotFoundError, match="Step 5"):
        inference.predict("ok", "", project_root_dir=str(tmp_path))


def test_project_root_from_env_then_script_location(monkeypatch, tmp_path):
    monkeypatch.setenv("PROJECT_ROOT", str(tmp_path))
    assert inference.project_root() == tmp_path.resolve()
    monkeypatch.delenv("PROJECT_ROOT")
    assert inference.project_root() == inference.Path(inference.__file__).resolve().parent.parent


def test_cli_prints_json(root):
    env = {**os.environ, "PROJECT_ROOT": root}
    proc = subprocess.run([sys.executable, os.path.join(SRC, "inference.py"), "--title", "Floral Cotton Dress",
                           "--description", "princess tutu", "--top-k", "2"], capture_output=True, text=True,
                          env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model"] == "baseline" and len(doc["predictions"]) == 2
    assert doc["predictions"][0]["label"] == "Girls' Clothing"
    bad = subprocess.run([sys.executable, os.path.join(SRC, "inference.py"), "--title", " ", "--project-root", root],
                         capture_output=True, text=True, timeout=900)
    assert bad.returncode == 2 and "title must not be empty" in json.loads(bad.stderr)["error"]
