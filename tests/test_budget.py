"""The time budget: allowances re-planned from the time left, sizing arithmetic, and its records."""
from __future__ import annotations

import json

import pytest

import budget
from config import Config, DEFAULT_TIME_BUDGET_MINUTES
from runlog import read_notes


class Clock:
    def __init__(self, t: float = 1_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_time_budget_parameter_zero_or_empty_means_the_mode_default():
    assert budget.minutes_for(Config.for_mode("full")) == DEFAULT_TIME_BUDGET_MINUTES["full"]
    assert budget.minutes_for(Config.for_mode("smoke", time_budget_minutes="")) == DEFAULT_TIME_BUDGET_MINUTES["smoke"]
    assert budget.minutes_for(Config.for_mode("full", time_budget_minutes="60")) == 60.0
    assert Config.from_dict({"time_budget_minutes": "45"}).time_budget_minutes == 45.0
    with pytest.raises(ValueError, match="TIME_BUDGET_MINUTES must be a number of minutes"):
        Config.for_mode("full", time_budget_minutes="an hour")


def test_sized_steps_share_what_is_left_after_the_estimates_and_the_margin():
    clock = Clock()
    b = budget.Budget(60, clock=clock)
    assert b.margin == 180.0  # 5 % of an hour
    plan = b.initial_plan
    assert plan["baselines"] == pytest.approx(0.15 * 3600)
    sized = {k: v for k, v in plan.items() if budget.SPECS[k].weight}
    # the whole hour is planned: estimates + sized shares + margin
    assert sum(plan.values()) + b.margin == pytest.approx(3600, abs=1)
    assert sized["finetune"] == pytest.approx(4 * sized["embeddings"])
    clock.t += 5 * 60  # Steps 1-4 took 5 minutes
    first = b.allowance("embeddings")
    left = 3600 - 300 - 180 - 3600 * (0.15 + 0.10 + 0.02 + 0.03 + 0.05 + 0.05)  # estimates still ahead
    assert first == pytest.approx(left * 1.0 / 8.0)


def test_a_step_that_finishes_early_leaves_its_time_to_the_next_and_an_overrun_takes_it():
    def lstm_allowance(embed_seconds: float) -> float:
        clock = Clock()
        b = budget.Budget(60, clock=clock)
        clock.t += 3600 * 0.04  # Steps 1-4 took their estimate
        with b.step("embeddings"):
            clock.t += embed_seconds
        clock.t += 3600 * 0.15  # the sklearn baselines took their estimate
        return b.begin("lstm").allowance

    planned = budget.Budget(60, clock=Clock()).initial_plan
    on_plan = lstm_allowance(planned["embeddings"])
    assert on_plan == pytest.approx(planned["lstm"], rel=0.01)  # everything on plan: the plan holds
    assert lstm_allowance(10) > on_plan * 1.1  # an early finish leaves time to the next step
    assert lstm_allowance(planned["embeddings"] * 3) < on_plan * 0.9  # an overrun takes it


def test_allowance_is_zero_once_the_deadline_has_passed_and_steps_still_do_their_minimum():
    clock = Clock()
    b = budget.Budget(1, clock=clock)
    clock.t += 120
    with b.step("finetune") as st:
        assert st.allowance == 0.0
        assert st.rows_that_fit(0.01, cap=5000, minimum=300, what="rows") == 300
        assert st.cuts and "300 of 5,000" in st.cuts[0]


def test_begin_is_idempotent_while_open_so_precheck_and_run_share_one_allowance():
    clock = Clock()
    b = budget.Budget(30, clock=clock)
    a = b.begin("finetune")
    clock.t += 50
    assert b.begin("finetune") is a and a.elapsed() == 50
    b.finish("finetune")
    clock.t += 5
    again = b.begin("finetune")  # a re-run of the step after it finished gets a new allowance
    assert again is not a


def test_size_training_keeps_the_seed_defaults_when_they_fit():
    s = budget.size_training(3600, rows=200_000, epochs=3, seconds_per_row=1 / 400, eval_rows=20_000,
                             seconds_per_eval_row=1 / 1500, fixed_seconds=60)
    assert (s.rows, s.epochs, s.eval_rows, s.fits, s.cuts) == (200_000, 3.0, 20_000, True, [])


def test_size_training_cuts_eval_rows_then_epochs_then_rows():
    # 8k rows at 30 rows/s = 267 s per epoch; 3 epochs = 800 s
    s = budget.size_training(600, rows=8000, epochs=3, seconds_per_row=1 / 30, eval_rows=1000,
                             seconds_per_eval_row=1 / 10, fixed_seconds=20, min_eval_rows=200)
    assert (s.eval_rows, s.rows, s.epochs, s.fits) == (300, 8000, 1.9, True)
    assert s.seconds <= 600 and s.cuts[0].startswith("evaluation rows") and s.cuts[1].startswith("epochs")
    s = budget.size_training(120, rows=8000, epochs=3, seconds_per_row=1 / 30, fixed_seconds=20, min_rows=1000)
    assert s.epochs == 1.0 and s.rows == 3000 and s.fits and s.cut_rows
    s = budget.size_training(10, rows=8000, epochs=3, seconds_per_row=1 / 30, min_rows=1000)
    assert (s.rows, s.epochs, s.fits) == (1000, 1.0, False)
    # the LSTM keeps its epochs (early stopping decides them) and loses rows only
    s = budget.size_training(100, rows=60_000, epochs=5, seconds_per_row=1e-3, min_epochs=5, min_rows=2000)
    assert s.epochs == 5 and s.rows == 20_000


def test_records_go_to_notes_summary_and_json(project):
    clock = Clock()
    b = budget.Budget(20, "smoke", project, clock=clock)
    with b.step("tuning") as st:
        st.rate("trial", "12.0 s per trial")
        st.cut("Optuna trials: 3 of 12")
        clock.t += 40
    doc = json.loads((project.experiments / budget.STATE_FILE).read_text())
    assert doc["minutes"] == 20 and doc["steps"]["tuning"]["actual_seconds"] == 40
    assert doc["steps"]["tuning"]["allowed_seconds"] > 0 and doc["initial_plan_seconds"]["tuning"] > 0
    note = read_notes(project)[budget.NOTES_TOPIC]
    assert "Step 7: Optuna" in note and "12.0 s per trial" in note and "3 of 12" in note
    assert "[Time budget]" in project.summary.read_text()


def test_optuna_stopper_stops_when_the_mean_trial_no_longer_fits():
    import datetime as dt

    clock = Clock()
    b = budget.Budget(10, clock=clock)
    st = b.begin("tuning")

    class T:
        def __init__(self, s):
            t0 = dt.datetime(2026, 1, 1)
            self.datetime_start, self.datetime_complete = t0, t0 + dt.timedelta(seconds=s)

    class Study:
        def __init__(self):
            self.trials, self.stopped = [], False

        def stop(self):
            self.stopped = True

    study, stop = Study(), st.optuna_stopper(12)
    study.trials.append(T(st.allowance / 4))
    clock.t += st.allowance / 4
    stop(study, None)
    assert not study.stopped
    study.trials += [T(st.allowance / 4)] * 3
    clock.t += st.allowance * 3 / 4 - 1
    stop(study, None)
    assert study.stopped and "4 of 12" in st.cuts[0]


def test_current_follows_a_changed_budget_and_keeps_the_start(project):
    cfg = Config.for_mode("smoke", project_root=str(project.root))
    b = budget.start(cfg, project)
    assert budget.current(cfg, project) is b
    cfg.time_budget_minutes = 5
    b2 = budget.current(cfg, project)
    assert b2.minutes == 5 and b2.started == b.started


def test_paced_stops_when_the_next_item_would_not_fit():
    clock = Clock()
    b = budget.Budget(10, clock=clock)
    st = b.begin("interpret")
    limit = st.left() * 0.5
    done = []
    for item in st.paced(list(range(20)), share=0.5, what="LIME explanations"):
        done.append(item)
        clock.t += limit / 4.5  # each explanation takes a bit more than a fifth of the share
    assert done == [0, 1, 2, 3] and "LIME explanations: 4 of 20" in st.cuts[0]
    assert list(st.paced(["only one"], share=0.0)) == ["only one"]  # the first item always runs


def test_keras_epoch_guard_stops_fit_when_another_epoch_no_longer_fits():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import numpy as np

    b = budget.Budget(0.001)  # a few milliseconds: used up by the first epoch
    st = b.begin("lstm")
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = np.random.default_rng(0).normal(size=(64, 4)), np.arange(64) % 3
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[budget.keras_epoch_guard(st, "LSTM")])
    assert len(hist.history["loss"]) == 1 and "LSTM stopped after epoch 1 of 5" in st.cuts[0]
