"""Step 7: Optuna on the TF-IDF baseline and on BERT (Trainer.hyperparameter_search), JSON + PNG."""
from __future__ import annotations

import json

import pytest

import tuning
from pipeline_fixtures import copy_project, run_steps, smoke_cfg


def test_baseline_tuning_cross_validates_the_step5_pipeline_and_applies_the_best(project):
    import joblib
    import pandas as pd

    run_steps(project)
    cfg = smoke_cfg(project, n_trials=4, tune_model="linear_svc")
    res = tuning.run(cfg, project)
    doc = json.loads((project.experiments / "optuna_results.json").read_text())
    assert doc["target"] == "tfidf" and doc["model"] == "linear_svc" and doc["n_trials"] == 4 and len(doc["trials"]) == 4
    assert {"C", "tfidf_ngram_max", "tfidf_min_df", "tfidf_char_ngrams"} <= set(doc["best_params"])
    assert doc["metric"].startswith("3-fold CV accuracy")
    assert doc["best_value"] == max(t["value"] for t in doc["trials"] if t["value"] is not None)
    assert (project.experiments / "optuna_history.png").stat().st_size > 5000
    assert res["skipped"] is False
    assert tuning.run(cfg, project)["skipped"] is True

    applied = tuning.apply_best(cfg, project, res)
    assert applied["model"] == "tuned_linear_svc" and applied["params"] == doc["best_params"]
    assert applied["promoted"] is True  # no Step 5 table here: anything validates better than nothing
    pipe = joblib.load(project.models / "tuned_linear_svc.joblib")
    assert [n for n, _ in pipe.steps] == ["features", "clf"]
    assert joblib.load(project.models / "baseline.joblib").predict(["red leather running sneaker"])[0] in set(
        pd.read_csv(project.processed / "train.csv")["category"])
    table = pd.read_csv(project.results / "metrics_baselines.csv")
    row = table.set_index("model").loc["tuned_linear_svc"]
    assert 0 <= row["val_accuracy"] <= 1 and row["cv_mean"] == pytest.approx(doc["best_value"])
    assert tuning.apply_best(cfg, project, res)["skipped"] is True


def test_applied_tuning_keeps_a_better_step5_baseline(step5_root, tmp_path):
    import pandas as pd

    project = copy_project(step5_root, tmp_path)
    table = pd.read_csv(project.results / "metrics_baselines.csv")
    table["val_accuracy"] = 1.01  # Step 5's best cannot be beaten
    table.to_csv(project.results / "metrics_baselines.csv", index=False)
    before = (project.models / "baseline.joblib").read_bytes()
    cfg = smoke_cfg(project, n_trials=2, tune_model="naive_bayes")
    applied = tuning.apply_best(cfg, project, tuning.run(cfg, project))
    assert applied["promoted"] is False and (project.models / "baseline.joblib").read_bytes() == before


def test_bert_tuning_uses_hyperparameter_search(project):
    run_steps(project)
    res = tuning.run(smoke_cfg(project, tune_bert=True, n_trials=2, tune_bert_train_rows=48), project)
    assert res["target"] == "bert" and res["n_trials"] == 2
    assert set(res["best_params"]) == {"learning_rate", "per_device_train_batch_size", "num_train_epochs",
                                       "weight_decay"}
    assert all(t["state"] == "COMPLETE" for t in res["trials"])
    assert 0 <= res["best_value"] <= 1
