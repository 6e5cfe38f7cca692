"""Step 7: Optuna on the TF-IDF baseline and on BERT (Trainer.hyperparameter_search), JSON + PNG."""
from __future__ import annotations

import json

import tuning
from fixtures_part2 import build_project, smoke_cfg


def test_baseline_tuning_writes_every_trial_and_a_plot(project):
    build_project(project, with_models=False)
    res = tuning.run(smoke_cfg(project, n_trials=4), project)
    doc = json.loads((project.experiments / "optuna_results.json").read_text())
    assert doc["target"] == "tfidf_logreg" and doc["n_trials"] == 4 and len(doc["trials"]) == 4
    assert set(doc["best_params"]) == {"C", "ngram_max", "min_df"}
    assert doc["best_value"] == max(t["value"] for t in doc["trials"] if t["value"] is not None)
    assert (project.experiments / "optuna_history.png").stat().st_size > 5000
    assert res["skipped"] is False
    assert tuning.run(smoke_cfg(project, n_trials=4), project)["skipped"] is True


def test_bert_tuning_uses_hyperparameter_search(project):
    build_project(project, with_models=False)
    res = tuning.run(smoke_cfg(project, tune_bert=True, n_trials=2, tune_bert_train_rows=48), project)
    assert res["target"] == "bert" and res["n_trials"] == 2
    assert set(res["best_params"]) == {"learning_rate", "per_device_train_batch_size", "num_train_epochs",
                                       "weight_decay"}
    assert all(t["state"] == "COMPLETE" for t in res["trials"])
    assert 0 <= res["best_value"] <= 1
