"""Step 6's optional head on the token mean (cfg.finetune_pooling="mean"), through training and serving."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import finetune
import mean_pooling
from pipeline_fixtures import copy_project, smoke_cfg

SRC = Path(__file__).resolve().parents[1] / "cells" / "src"


@pytest.fixture(scope="module")
def tiny_bert(trained_root) -> Path:
    return Path(trained_root) / "models" / "tiny-bert"


def test_the_pooling_setting_is_checked_against_the_checkpoint(tiny_bert, tmp_path, capsys):
    from transformers import DistilBertConfig, DistilBertModel

    from config import Config
    from hybrid import packaged_minilm_dir

    labels = {0: "Kitchen", 1: "Toys", 2: "Shoes"}

    def pooling(path, setting: str) -> str:
        model = finetune.load_classifier(str(path), labels, {v: k for k, v in labels.items()}, pooling=setting)
        return mean_pooling.pooling_of(model)

    assert pooling(tiny_bert, "cls") == "cls"
    assert pooling(tiny_bert, "mean") == "mean"
    minilm = packaged_minilm_dir()
    assert minilm and pooling(minilm, "mean") == "mean"  # the CPU fine-tuning model as shipped
    other = tmp_path / "distil"
    DistilBertModel(DistilBertConfig(vocab_size=100, dim=32, hidden_dim=64, n_layers=1, n_heads=2)).save_pretrained(other)
    # a fallback model of another architecture (distilbert) is fine-tuned on its own head, and the run says so
    assert pooling(other, "mean") == "cls"
    assert "applies to BERT-architecture checkpoints" in capsys.readouterr().out
    assert pooling(other, "cls") == "cls"
    with pytest.raises(ValueError, match="finetune_pooling must be"):
        Config(finetune_pooling="max")


def test_the_mean_ignores_padding_and_the_saved_model_never_loads_as_a_cls_classifier(tiny_bert, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    labels = {0: "Kitchen", 1: "Toys", 2: "Shoes"}
    model = finetune.load_classifier(str(tiny_bert), labels, {v: k for k, v in labels.items()}, pooling="mean")
    assert model.config.model_type == "bert-mean-pooled" and model.bert.pooler is None
    tok = AutoTokenizer.from_pretrained(str(tiny_bert))
    model.eval()
    texts = ["red kettle", "leather running sneaker with a long trail sole and laces"]
    with torch.no_grad():
        batch = model(**tok(texts, padding=True, return_tensors="pt")).logits
        alone = model(**tok(texts[:1], return_tensors="pt")).logits
    assert torch.allclose(batch[0], alone[0], atol=1e-5)  # padding does not enter the mean
    model.save_pretrained(tmp_path / "saved")
    tok.save_pretrained(tmp_path / "saved")
    # fine-tuned again from this folder, it keeps the head it was trained with
    again = finetune.load_classifier(str(tmp_path / "saved"), labels, {v: k for k, v in labels.items()}, pooling="cls")
    assert mean_pooling.pooling_of(again) == "mean"
    mean_pooling.register()
    back = AutoModelForSequenceClassification.from_pretrained(tmp_path / "saved").eval()
    with torch.no_grad():
        assert torch.allclose(back(**tok(texts, padding=True, return_tensors="pt")).logits, batch, atol=1e-5)
    assert pipeline("text-classification", model=str(tmp_path / "saved"))("red kettle")[0]["label"] in labels.values()
    # Without register() (a Python that never imported mean_pooling) loading fails; it does not
    # quietly build a [CLS] classifier on weights trained for the mean.
    code = f"from transformers import AutoModelForSequenceClassification as A; A.from_pretrained({str(tmp_path / 'saved')!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "bert-mean-pooled" in out.stderr


def test_step6_with_the_mean_trains_saves_and_serves(step5_root, tmp_path):
    """Step 6 end to end with finetune_pooling="mean": LP-FT fits the head on the mean, training_info
    says which pooling, and Step 10's predictor and script read the saved model back."""
    import inference
    from splits import load_split

    paths = copy_project(step5_root, tmp_path)
    cfg = smoke_cfg(paths, finetune_pooling="mean", finetune_linear_probe=True, finetune_probe_min_rows=10)
    info = finetune.run(cfg, paths)
    assert info["pooling"] == "mean" and info["linear_probe"]["probe_rows"] > 0
    assert json.loads((paths.bert_final / "config.json").read_text())["model_type"] == "bert-mean-pooled"
    test = load_split(paths, "test").head(40)
    pred = inference.BertPredictor(paths.bert_final)
    proba = pred.predict_proba(test["product_title"].tolist(), test["product_description"].fillna("").tolist())
    assert proba.shape == (len(test), len(pred.classes)) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    # the predictor's length-sorted batches agree with one text at a time
    title, desc = test["product_title"].iloc[0], test["product_description"].fillna("").iloc[0]
    one = pred.predict_proba([title], [desc])
    assert np.allclose(one[0], proba[0], atol=1e-4)
    # Step 10's script in a fresh Python (as the API and a user's shell run it) reads the same model
    out = subprocess.run([sys.executable, str(SRC / "inference.py"), "--title", title, "--description", desc,
                          "--model", "bert", "--project-root", str(paths.root), "--top-k", "1"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    top = json.loads(out.stdout)["predictions"][0]
    assert top["label"] == pred.classes[int(one[0].argmax())]
    assert abs(top["probability"] - float(one[0].max())) < 1e-3


def test_the_default_run_keeps_bert_s_own_head(trained_root):
    info = json.loads((Path(trained_root) / "models" / "bert_final" / "training_info.json").read_text())
    assert info["pooling"] == "cls"
    assert json.loads((Path(trained_root) / "models" / "bert_final" / "config.json").read_text())["model_type"] == "bert"
