"""Step 8: metrics for every loadable model, readable plots for many classes, unseen test labels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evaluate
from fixtures_part2 import copy_project, smoke_cfg, trained_root
from runlog import read_notes


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    paths = copy_project(trained_root(tmp_path_factory), tmp_path_factory.mktemp("eval"))
    # A test row whose category never occurs in training.
    test = pd.read_csv(paths.processed / "test.csv", keep_default_na=False)
    extra = test.iloc[[0]].copy()
    extra["category"], extra["label"], extra["asin"] = "Gift Cards", -1, "BNEWLABEL1"
    pd.concat([test, extra]).to_csv(paths.processed / "test.csv", index=False)
    return paths, evaluate.run(smoke_cfg(paths, n_confused_classes=4, n_roc_classes=3), paths)


def test_metrics_csv_has_one_row_per_loadable_model(evaluated):
    paths, res = evaluated
    m = pd.read_csv(paths.results / "metrics.csv")
    assert list(m.columns) == evaluate.METRIC_COLUMNS
    assert list(m["model"]) == ["baseline", "logreg", "naive_bayes", "bert", "ensemble"]
    scored = [c for c in evaluate.METRIC_COLUMNS[1:] if c != "n_test"]
    assert m[scored].apply(lambda c: c.between(0, 1)).all().all() and (m["n_test"] == res["n_test"]).all()
    assert (m["top3_accuracy"] >= m["top2_accuracy"]).all() and (m["top2_accuracy"] >= m["accuracy"]).all()
    assert "lstm" in res["not_evaluated"]  # listed in metrics_baselines.csv but not a .joblib
    for name in m["model"]:
        assert (paths.results / f"classification_report_{name}.txt").read_text().count("macro avg") == 1


def test_ensemble_and_best_model_are_chosen_on_validation_only(evaluated):
    import json

    paths, res = evaluated
    m = pd.read_csv(paths.results / "metrics.csv").set_index("model")
    ens = json.loads((paths.models / "ensemble.json").read_text())
    assert set(ens["weights"]) <= {"logreg", "naive_bayes", "bert"}  # "baseline" is a copy of logreg
    assert abs(sum(ens["weights"].values()) - 1) < 1e-9 and ens["n_val"] == res["n_val"] > 0
    best = json.loads((paths.results / "best_model.json").read_text())
    assert best["model"] == m["val_accuracy"].idxmax() and best["chosen_by"].startswith("validation accuracy")
    assert best["test_accuracy"] == m.loc[best["model"], "accuracy"]


def test_ensemble_selection_weights_models_on_validation():
    import ensemble

    classes = ["a", "b", "c"]
    y = ["a", "b", "c", "a"]
    good = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3], [0.6, 0.2, 0.2]])  # wrong on row 3
    other = np.array([[0.4, 0.3, 0.3], [0.3, 0.4, 0.3], [0.1, 0.1, 0.8], [0.2, 0.5, 0.3]])  # wrong on row 4
    weights, trace = ensemble.select({"good": good, "other": other}, y, classes, rounds=5)
    assert trace[0]["added"] == "good" and trace[-1]["val_score"] == 1.0  # together they get all four
    assert set(weights) == {"good", "other"} and abs(sum(weights.values()) - 1) < 1e-12
    combined = ensemble.combine({"good": good, "other": other}, weights)
    assert list(combined.argmax(1)) == [0, 1, 2, 0]
    aligned = ensemble.align(np.array([[0.25, 0.75]]), ["c", "a"], classes)
    np.testing.assert_allclose(aligned, [[0.75, 0.0, 0.25]])


def test_unseen_test_label_is_counted_excluded_and_noted(evaluated):
    paths, res = evaluated
    assert res["n_unseen_excluded"] == 1 and res["n_test"] == 45
    assert "Gift Cards" in read_notes(paths)["evaluation: unseen test labels"]
    assert "Gift Cards" not in (paths.results / "classification_report_baseline.txt").read_text()


def test_plots_exist_for_baseline_and_bert(evaluated):
    paths, res = evaluated
    for name in ("baseline", "bert"):
        for f in (f"confusion_{name}_raw.png", f"confusion_{name}_normalized.png", f"roc_{name}.png"):
            assert (paths.plots / f).stat().st_size > 5000
        assert len(res["roc_auc"][name]) == 3


def test_rerun_skips_unless_forced(evaluated):
    paths, _ = evaluated
    assert evaluate.run(smoke_cfg(paths), paths)["skipped"] is True


def test_topk_and_most_confused():
    classes = ["a", "b", "c"]
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.3, 0.5], [0.5, 0.4, 0.1]])
    assert evaluate.topk_accuracy(["a", "b", "c"], probs, classes, 1) == pytest.approx(1 / 3)
    assert evaluate.topk_accuracy(["a", "b", "c"], probs, classes, 2) == pytest.approx(2 / 3)
    assert evaluate.topk_accuracy(["a", "b", "zzz"], probs, classes, 3) == pytest.approx(2 / 3)
    cm = np.array([[10, 0, 0, 0], [0, 5, 4, 0], [0, 3, 6, 1], [0, 0, 0, 9]])
    assert list(evaluate.most_confused(cm, 2)) == [1, 2]


def test_lstm_baseline_is_evaluated_when_its_files_exist(tmp_path_factory):
    import json
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    paths = copy_project(trained_root(tmp_path_factory), tmp_path_factory.mktemp("lstm"))
    lm = json.loads((paths.models / "label_map.json").read_text())
    vocab = ["shoe", "dress", "lego", "knife", "tote", "usb"]
    model = keras.Sequential([keras.Input(shape=(8,), dtype="int32"), keras.layers.Embedding(len(vocab) + 2, 4),
                              keras.layers.LSTM(4), keras.layers.Dense(len(lm["id2label"]), activation="softmax")])
    model.save(str(paths.models / "lstm.h5"))
    (paths.models / "lstm_vocab.json").write_text(json.dumps(
        {"vocab": vocab, "max_len": 8, "pad_id": 0, "unk_id": 1, "padding": "pre", "id2label": lm["id2label"]}))
    res = evaluate.run(smoke_cfg(paths, force=True), paths)
    assert "lstm" in list(res["metrics"]["model"]) and "lstm" not in res["not_evaluated"]
    assert (paths.results / "classification_report_lstm.txt").is_file()


@pytest.mark.parametrize("eval_rows, evaluated_here", [(10_000, True), (10, False)])
def test_hybrid_is_evaluated_unless_cpu_would_embed_too_many_rows(tmp_path_factory, eval_rows, evaluated_here):
    """Step 5b's row in metrics_baselines.csv makes Step 8 load models/hybrid.joblib; without a GPU
    and with more test rows than hybrid_cpu_eval_rows it is left to Step 5b's sampled score."""
    import hybrid
    import tiny_model

    paths = copy_project(trained_root(tmp_path_factory), tmp_path_factory.mktemp("hybrid"))
    train = pd.read_csv(paths.processed / "train.csv", keep_default_na=False)
    texts = (train["product_title"] + " " + train["product_description"]).str.strip().tolist()
    encoder = tiny_model.build_tiny_bert(texts, paths.models / hybrid.ENCODER_DIR / "tiny-bert")
    cfg = smoke_cfg(paths, force=True, hybrid_cpu_eval_rows=eval_rows, tfidf_char_max_features=2_000)
    pipe, _ = hybrid.fit(texts, train["category"].to_numpy(object), cfg, encoder)
    import joblib

    joblib.dump(pipe, paths.models / "hybrid.joblib")
    table = pd.read_csv(paths.results / "metrics_baselines.csv")
    pd.concat([table, pd.DataFrame([{"model": "hybrid"}])]).to_csv(paths.results / "metrics_baselines.csv", index=False)
    res = evaluate.run(cfg, paths)
    assert ("hybrid" in list(res["metrics"]["model"])) == evaluated_here
    if not evaluated_here:
        assert "Step 5b scored it on a 10-row test sample" in res["not_evaluated"]["hybrid"]
