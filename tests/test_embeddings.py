"""Step 4 (BERT part): [CLS] embeddings with the stratified cap, the size/time check and the fallback model."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import embeddings
import fallback
import tiny_model
from pipeline_fixtures import run_steps, smoke_cfg
from runlog import read_notes


def test_embeddings_fall_back_when_the_model_cannot_load(project):
    out = run_steps(project)
    cfg = smoke_cfg(project, model_name=str(project.root / "no-such-bert"), fallback_model_name="tiny-bert",
                    embed_max_rows=60)
    res = embeddings.run(cfg, project)
    assert res["model_name"] == "tiny-bert" and res["dim"] == 64
    assert len(out["val"]) < 60 and res["rows"] == {"train": 60, "val": len(out["val"]), "test": len(out["test"])}
    train = np.load(project.embeddings / "train.npy")
    labels = np.load(project.embeddings / "train_labels.npy")
    assert train.dtype == np.float32 and train.shape == (60, 64) and np.isfinite(train).all()
    assert len(set(labels)) == len(out["labels"])  # the stratified cap keeps every class
    rows = np.load(project.embeddings / "train_rows.npy")
    src = pd.read_csv(project.processed / "train.csv")
    assert (src.loc[rows, "label"].to_numpy() == labels).all()
    assert "no-such-bert" in read_notes(project)["fallbacks: Step 4 BERT embeddings"]
    assert json.loads((project.embeddings / "meta.json").read_text())["fallbacks"][0]["kind"] == "model_load"
    assert embeddings.run(cfg, project)["skipped"] is True


def test_probe_times_rows_and_embed_frame_follows_the_pair_rule(project, monkeypatch):
    import time
    import types

    run_steps(project)
    df = pd.read_csv(project.processed / "train.csv", keep_default_na=False)
    path = tiny_model.resolve_one("tiny-bert", project, df["product_title"].tolist())
    tok, model = embeddings.load_encoder(path)
    # a clock that embedding moves by 10 ms a row, plus 1 s of set-up on the first call: the probe
    # must leave out its warm-up batch and divide by the rows it timed (16 + 2 x 16 rows here)
    clock = {"now": 0.0, "calls": 0}
    real = embeddings.embed_frame

    def timed(tok_, model_, rows, *a, **kw):
        clock["now"] += 0.01 * len(rows) + (1.0 if clock["calls"] == 0 else 0.0)
        clock["calls"] += 1
        return real(tok_, model_, rows, *a, **kw)

    monkeypatch.setattr(embeddings, "embed_frame", timed)
    monkeypatch.setattr(embeddings, "time", types.SimpleNamespace(**{**vars(time), "perf_counter": lambda: clock["now"]}))
    assert embeddings.seconds_per_row(tok, model, df, 16, 32, "cpu", batches=2) == pytest.approx(0.01)
    assert clock["calls"] == 2
    monkeypatch.undo()
    titles = embeddings.embed_frame(tok, model, df.head(20), 16, 32, "cpu", pair=False)
    pairs = embeddings.embed_frame(tok, model, df.head(20), 16, 32, "cpu", pair=True)
    assert titles.shape == pairs.shape == (20, 64) and not np.allclose(titles, pairs)


def test_a_small_time_budget_embeds_fewer_rows_and_says_so(project, monkeypatch):
    out = run_steps(project)
    real = embeddings.seconds_per_row

    def slow(*a, **kw):  # as on a loaded runtime: the sizing must not depend on this machine's speed
        real(*a, **kw)
        return 0.5

    monkeypatch.setattr(embeddings, "seconds_per_row", slow)
    cfg = smoke_cfg(project, time_budget_minutes=0.02, embed_min_rows=60)
    res = embeddings.run(cfg, project)
    assert sum(res["rows"].values()) == pytest.approx(60, abs=3) and res["rows_available"]["train"] == len(out["train"])
    stratified = set(np.load(project.embeddings / "train_labels.npy"))
    assert stratified == set(range(len(out["labels"])))  # stratified: every class
    note = read_notes(project)["time budget"]
    assert "Step 4: BERT [CLS] embeddings" in note and "rows embedded:" in note and "rows/s" in note


def test_a_model_too_slow_for_the_budget_gives_way_to_the_next(project, monkeypatch):
    out = run_steps(project)
    real = embeddings.seconds_per_row
    calls = []

    def slow_first(tok, model, *a, **kw):
        calls.append(model.name_or_path)
        return 30.0 if len(calls) == 1 else real(tok, model, *a, **kw)

    monkeypatch.setattr(embeddings, "seconds_per_row", slow_first)
    first = tiny_model.resolve_one("tiny-bert", project, ["a few words for the vocabulary"] * 5)
    import shutil

    other = str(project.models / "tiny-bert-2")
    shutil.copytree(first, other)
    res = embeddings.run(smoke_cfg(project, fallback_model_name=other, cpu_model_name=other), project)
    assert res["model_name"] == other and res["rows"] == {s: len(out[s]) for s in ("train", "val", "test")}
    assert [f["kind"] for f in res["fallbacks"]] == ["too_slow"]
    assert "Step 4's time budget" in read_notes(project)["fallbacks: Step 4 BERT embeddings"]


def test_stratified_cap_keeps_classes_and_size():
    from sampling import stratified_cap

    df = pd.DataFrame({"label": [0] * 90 + [1] * 9 + [2] * 1, "x": range(100)})
    out = stratified_cap(df, 20, seed=1)
    assert len(out) == 20 and set(out["label"]) == {0, 1, 2}
    assert out["label"].value_counts()[0] > out["label"].value_counts()[1]
    assert stratified_cap(df, 500) is df
    assert len(stratified_cap(df, 2)) == 2


def test_resolve_model_name_builds_tiny_bert_once(project):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    cfg = smoke_cfg(project)
    path = tiny_model.resolve_model_name(cfg, project, ["red leather shoe", "blue cotton dress"] * 20)
    assert path == str(project.models / "tiny-bert") and tiny_model.is_built(path)
    mtime = (project.models / "tiny-bert" / "config.json").stat().st_mtime
    assert tiny_model.resolve_model_name(cfg, project) == path  # no texts needed the second time
    assert (project.models / "tiny-bert" / "config.json").stat().st_mtime == mtime
    tok = AutoTokenizer.from_pretrained(path)
    assert tok.tokenize("red shoe") == ["red", "shoe"]
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=3)
    assert model.config.hidden_size == 64 and model.config.num_hidden_layers == 2
    cfg_hub = smoke_cfg(project, model_name="bert-base-uncased")
    assert tiny_model.resolve_model_name(cfg_hub, project) == "bert-base-uncased"
