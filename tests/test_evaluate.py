"""Step 8: metrics for every loadable model, readable plots for many classes, unseen test labels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evaluate
from pipeline_fixtures import copy_project, smoke_cfg
from runlog import read_notes


@pytest.fixture(scope="module")
def evaluated(trained_root, tmp_path_factory):
    paths = copy_project(trained_root, tmp_path_factory.mktemp("eval"))
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
    # every model Step 5 saved (its table's rows, the LSTM included), then BERT and the ensemble
    step5 = pd.read_csv(paths.results / "metrics_baselines.csv")["model"].tolist()
    assert step5 == ["logreg", "linear_svc", "naive_bayes", "random_forest", "lstm"]
    assert list(m["model"]) == ["baseline", *step5, "bert", "ensemble"]
    scored = [c for c in evaluate.METRIC_COLUMNS[1:] if c != "n_test"]
    assert m[scored].apply(lambda c: c.between(0, 1)).all().all() and (m["n_test"] == res["n_test"]).all()
    assert (m["top3_accuracy"] >= m["top2_accuracy"]).all() and (m["top2_accuracy"] >= m["accuracy"]).all()
    assert res["not_evaluated"] == {}
    for name in m["model"]:
        assert (paths.results / f"classification_report_{name}.txt").read_text().count("macro avg") == 1


def test_ensemble_and_best_model_are_chosen_on_validation_only(evaluated):
    import json

    paths, res = evaluated
    m = pd.read_csv(paths.results / "metrics.csv").set_index("model")
    ens = json.loads((paths.models / "ensemble.json").read_text())
    # "baseline" is a copy of Step 5's best, so it is no candidate of its own
    assert ens["weights"] and set(ens["weights"]) <= set(m.index) - {"baseline", "ensemble"}
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
    n_test = len(pd.read_csv(paths.processed / "test.csv"))  # the added row included
    assert res["n_unseen_excluded"] == 1 and res["n_test"] == n_test - 1
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


def test_a_listed_model_whose_files_are_gone_is_reported_not_scored(step5_root, tmp_path_factory):
    """A model in Step 5's table whose saved files are missing is listed with the reason, not scored."""
    paths = copy_project(step5_root, tmp_path_factory.mktemp("gone"))
    (paths.models / "lstm.h5").unlink()
    (paths.models / "linear_svc.joblib").unlink()
    res = evaluate.run(smoke_cfg(paths), paths)
    assert list(res["metrics"]["model"]) == ["baseline", "logreg", "naive_bayes", "random_forest", "ensemble"]
    assert set(res["not_evaluated"]) == {"lstm", "linear_svc", "bert"}
    assert res["not_evaluated"]["linear_svc"].startswith("no linear_svc.joblib")
    assert "lstm.h5" in res["not_evaluated"]["lstm"]
    assert not (paths.results / "classification_report_lstm.txt").exists()


@pytest.mark.parametrize("eval_rows, evaluated_here", [(10_000, True), (10, False)])
def test_hybrid_is_evaluated_unless_cpu_would_embed_too_many_rows(step5_root, tmp_path_factory, eval_rows,
                                                                  evaluated_here):
    """Step 5b's row in metrics_baselines.csv makes Step 8 load models/hybrid.joblib; without a GPU
    and with more test rows than hybrid_cpu_eval_rows it is left to Step 5b's sampled score."""
    import hybrid
    import tiny_model

    paths = copy_project(step5_root, tmp_path_factory.mktemp("hybrid"))
    train = pd.read_csv(paths.processed / "train.csv", keep_default_na=False)
    texts = (train["product_title"] + " " + train["product_description"]).str.strip().tolist()
    encoder = tiny_model.build_tiny_bert(texts, paths.models / hybrid.ENCODER_DIR / "tiny-bert")
    cfg = smoke_cfg(paths, force=True, hybrid_cpu_eval_rows=eval_rows, tfidf_char_max_features=2_000)
    pipe, _ = hybrid.fit(texts, train["category"].to_numpy(object), cfg, encoder)
    near = hybrid.fit_neighbours(pipe, texts, train["category"].to_numpy(object), cfg)
    import joblib

    joblib.dump(pipe, paths.models / "hybrid.joblib")
    joblib.dump(near, paths.models / "neighbours.joblib")
    table = pd.read_csv(paths.results / "metrics_baselines.csv")
    pd.concat([table, pd.DataFrame([{"model": "hybrid"}, {"model": "neighbours"}])]).to_csv(
        paths.results / "metrics_baselines.csv", index=False)
    res = evaluate.run(cfg, paths)
    for name in ("hybrid", "neighbours"):
        assert (name in list(res["metrics"]["model"])) == evaluated_here
        if not evaluated_here:
            assert "Step 5b scored it on a 10-row test sample" in res["not_evaluated"][name]
    if evaluated_here:  # a model Step 8 evaluates is a candidate member of its ensemble
        assert res["ensemble"] is not None and "neighbours" in set(pd.read_csv(paths.results / "metrics.csv")["model"])
