"""Sized steps that live in other stages ask the time budget: the Keras LSTM's rows and the Optuna
study's trials shrink with a small budget, and NOTES.md says by how much and at what rate."""
from __future__ import annotations

import os

from pipeline_fixtures import run_steps, smoke_cfg
from runlog import read_notes


def test_a_small_time_budget_trains_the_lstm_on_fewer_rows(project, monkeypatch):
    import itertools
    import time
    import types

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import lstm

    # lstm's own clock reads a second per call: its probe batches look as slow as on a loaded
    # runtime, so the sizing cuts rows whatever this machine's speed (budget.py keeps the real clock)
    ticks = itertools.count()
    monkeypatch.setattr(lstm, "time", types.SimpleNamespace(**{**vars(time), "perf_counter": lambda: float(next(ticks))}))
    out = run_steps(project, n=600)
    n = len(out["train"])
    cfg = smoke_cfg(project, time_budget_minutes=0.02, lstm_min_rows=100, lstm_epochs=3)
    row = lstm.train(out["train"], out["val"], out["test"], cfg, project, n_classes=len(out["labels"]))
    assert row["train_rows"] == 100
    note = read_notes(project)["time budget"]
    assert "Step 5: Keras LSTM" in note and f"rows {n} -> 100" in note and "training rows/s" in note
    assert (project.models / "lstm.h5").is_file()


def test_a_small_time_budget_stops_the_optuna_study_early(project, monkeypatch):
    import time

    import sklearn.model_selection

    import tuning

    run_steps(project)
    real = sklearn.model_selection.cross_val_score

    def slow(*a, **kw):  # trials as slow as on a loaded runtime, whatever this machine's speed
        time.sleep(0.4)
        return real(*a, **kw)

    monkeypatch.setattr(sklearn.model_selection, "cross_val_score", slow)
    res = tuning.run(smoke_cfg(project, n_trials=6, time_budget_minutes=0.02, tune_model="naive_bayes"), project)
    assert 1 <= res["n_trials"] < 6
    note = read_notes(project)["time budget"]
    assert "Step 7: Optuna" in note and f"Optuna trials: {res['n_trials']} of 6" in note and "s per trial" in note
