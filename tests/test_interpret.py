"""Step 9: LIME + SHAP on hard examples, and correct/incorrect prediction CSVs with full metadata."""
from __future__ import annotations

import pandas as pd
import pytest

import interpret
from pipeline_fixtures import copy_project, smoke_cfg


@pytest.fixture(scope="module")
def explained(trained_root, tmp_path_factory):
    paths = copy_project(trained_root, tmp_path_factory.mktemp("interp"))
    return paths, interpret.run(smoke_cfg(paths, n_example_predictions=5), paths)


def test_hard_examples_are_explained_with_lime_and_shap(explained):
    paths, res = explained
    hard = pd.read_csv(paths.interpretability / "hard_examples.csv")
    # SHAP needs coefficients: when Step 5's best is not linear, it explains the saved LogReg and says so
    import joblib

    linear = interpret._linear_parts(joblib.load(paths.models / "baseline.joblib")) is not None
    assert len(hard) == 6 and res["notes"] == ([] if linear else [
        "SHAP explains models/logreg.joblib: the best baseline is not a linear model."])
    # the hardest rows come first: lowest probability for the true class
    assert hard["p_true"].is_monotonic_increasing
    for col in ("lime_html", "lime_png", "shap_png"):
        assert all(paths.interpretability.joinpath(p.split("/")[-1]).stat().st_size > 1000 for p in hard[col])
    assert hard["lime_top_words"].str.len().gt(0).all() and hard["shap_top_features"].str.len().gt(0).all()
    assert "<table" in (paths.interpretability / "shap_hard_examples.html").read_text()


def test_prediction_csvs_keep_all_original_columns(explained):
    paths, _ = explained
    test_cols = list(pd.read_csv(paths.processed / "test.csv").columns)
    correct = pd.read_csv(paths.interpretability / "correct_predictions.csv", keep_default_na=False)
    wrong = pd.read_csv(paths.interpretability / "incorrect_predictions.csv", keep_default_na=False)
    for df in (correct, wrong):
        assert list(df.columns) == test_cols + ["true", "predicted", "confidence", "top3"]
        assert 1 <= len(df) <= 5
        assert df["top3"].str.count(";").eq(2).all()
    assert (correct["true"] == correct["predicted"]).all()
    assert (wrong["true"] != wrong["predicted"]).all()


def test_predictions_frame_scores():
    import numpy as np

    test = pd.DataFrame({"category": ["a", "b"], "product_title": ["x", "y"]})
    out = interpret.predictions_frame(test, np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]]), ["a", "b", "c"])
    assert list(out["correct"]) == [True, False]
    assert list(out["p_true"]) == [0.7, 0.3]
    assert list(interpret.hard_examples(out, 1)["true"]) == ["b"]


def test_linear_parts_sees_through_nested_feature_selection():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    texts = ["red shoe", "blue shoe", "red dress", "green dress", "toy car", "toy train"] * 5
    y = ["s", "s", "d", "d", "t", "t"] * 5
    pipe = Pipeline([("tfidf", TfidfVectorizer()),
                     ("clf", Pipeline([("select", SelectKBest(chi2, k=5)), ("lr", LogisticRegression())]))]).fit(texts, y)
    features, clf, names = interpret._linear_parts(pipe)
    assert isinstance(clf, LogisticRegression) and len(names) == 5 and "shoe" in names
    assert features.transform(["red shoe"]).shape == (1, 5)
    from sklearn.ensemble import RandomForestClassifier

    rf = Pipeline([("tfidf", TfidfVectorizer()), ("clf", RandomForestClassifier(n_estimators=3))]).fit(texts, y)
    assert interpret._linear_parts(rf) is None
    # Step 5's saved pipelines: [features (cleaning + word and char TF-IDF side by side), clf]
    import feature_engineering as fe
    from config import Config

    step5 = Pipeline([("features", fe.build_vectorizer(Config(), len(texts))), ("clf", LogisticRegression())]).fit(texts, y)
    features, clf, names = interpret._linear_parts(step5)
    assert len(names) == clf.coef_.shape[1] and "word:shoe" in names and any(n.startswith("char:") for n in names)


def test_a_small_time_budget_explains_fewer_hard_examples_and_says_so(trained_root, tmp_path_factory, monkeypatch):
    import time

    from lime.lime_text import LimeTextExplainer

    from runlog import read_notes

    real = LimeTextExplainer.explain_instance

    def slow(self, *a, **kw):  # each explanation slower than LIME's whole share, whatever this machine's speed
        time.sleep(0.8)
        return real(self, *a, **kw)

    monkeypatch.setattr(LimeTextExplainer, "explain_instance", slow)
    paths = copy_project(trained_root, tmp_path_factory.mktemp("interp_budget"))
    res = interpret.run(smoke_cfg(paths, time_budget_minutes=0.02), paths)  # LIME's share: under 0.8 s
    hard = res["hard_examples"]
    assert len(hard) == 6  # every hard example is listed ...
    assert hard["lime_html"].notna().tolist() == [True] + [False] * 5  # ... the first always explained
    note = read_notes(paths)["time budget"]
    assert "Step 9: LIME/SHAP" in note and "LIME explanations: 1 of 6" in note
