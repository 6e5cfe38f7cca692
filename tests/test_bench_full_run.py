"""bench/full_run.py's bookkeeping (the hour-long run itself is a benchmark, not a test) and
render_readme --section, which re-renders one section's part of the README block."""
from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import full_run  # noqa: E402
import render_readme  # noqa: E402
import tables  # noqa: E402


def _cell(kind: str, source: str, seconds: float = 0.0, t0: float = 0.0) -> dict:
    cell = {"cell_type": kind, "source": source, "metadata": {}}
    if kind == "code":
        import datetime as dt

        start = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=t0)
        cell["metadata"]["execution"] = {"iopub.execute_input": start.isoformat().replace("+00:00", "Z"),
                                         "shell.execute_reply": (start + dt.timedelta(seconds=seconds)).isoformat()}
    return cell


def test_cell_timings_are_grouped_by_the_budget_plan_steps(tmp_path):
    cells = [_cell("markdown", "## Quick Start"), _cell("code", "quickstart.run(cfg, paths)", 20),
             _cell("markdown", "## Step 4 — Feature representation"), _cell("code", "feature_engineering.run()", 5),
             _cell("code", "emb = embeddings.run(cfg, paths)", 100),
             _cell("markdown", "## Step 5 — Baselines"), _cell("code", "baselines.run(cfg, paths)", 600),
             _cell("markdown", "### Step 5b — Hybrid model"), _cell("code", "hybrid.run(cfg, paths)", 300),
             _cell("markdown", "### Step 5c — LogReg on [CLS]"), _cell("code", "embeddings.train_classifier()", 30),
             _cell("markdown", "## Step 7 — Optuna"), _cell("code", "tuning.run(cfg, paths)", 200),
             _cell("markdown", "### Re-fit with the best values"), _cell("code", "tuning.apply_best(cfg)", 50),
             _cell("markdown", "## Step 6 — Fine-tune BERT\n### Which device"), _cell("code", "finetune.run()", 900),
             _cell("markdown", "## Step 11 — Report"), _cell("code", "report.run()", 40),
             _cell("markdown", "## Final delivery"), _cell("code", "delivery.final_message()", 2)]
    nb = tmp_path / "executed_full.ipynb"
    nb.write_text(json.dumps({"cells": cells}))
    secs = full_run.cell_seconds(nb)
    assert secs == {"prepare": 25, "embeddings": 100, "baselines": 600, "hybrid": 300, "embeddings_lr": 30,
                    "tuning": 200, "refit": 50, "finetune": 900, "deliver": 42}
    doc = {"initial_plan_seconds": {"lstm": 200, "baselines": 540}, "estimates_seconds": {"baselines": 540},
           "steps": {"lstm": {"allowed_seconds": 180, "actual_seconds": 150, "cuts": ["LSTM rows: 5,000 of 7,900"],
                              "rates": {"LSTM": "120 rows/s"}}}}
    rows = {r["step"].split(" (")[0]: r for r in full_run.step_rows(doc, secs)}
    assert rows["Step 5: Keras LSTM"]["actual_s"] == 150 and rows["Step 5: Keras LSTM"]["allowed_s"] == 180
    assert rows["Step 5: sklearn baselines"]["actual_s"] == 450  # the Step 5 cell less the LSTM in it
    assert rows["Step 5: sklearn baselines"]["allowed_s"] == 540
    assert "5,000 of 7,900" in rows["Step 5: Keras LSTM"]["cut"] and "120 rows/s" in rows["Step 5: Keras LSTM"]["measured"]


def test_the_spec_artifact_list_is_the_notebook_tests_own():
    arts = full_run.spec_artifacts()
    assert "models/bert_final/config.json" in arts and "REPORT/final_report.pdf" in arts


def test_render_readme_section_replaces_only_that_part_or_appends_it():
    machine = {"cpu_cores": 2}
    sec = tables.section("Full notebook run", ["step", "actual_s"], [{"step": "whole run", "actual_s": 3000.0}],
                         note="budget 60 min")
    sec["measured_at"] = "2026-12-02 05:00 UTC"
    result = {"machine": machine, "sections": {"full_run": sec}}
    readme = ("intro\n<!-- bench:start -->\nMeasured earlier.\n\n#### Quality (measured x)\n\n| a |\n\n"
              "#### Go tool\n\n| b |\n<!-- bench:end -->\nrest\n")
    once = render_readme.replace_section(readme, result, "full_run")
    assert once.index("#### Go tool") < once.index("#### Full notebook run (measured 2026-12-02 05:00 UTC)")
    assert "| a |" in once and "| b |" in once and once.endswith("<!-- bench:end -->\nrest\n")
    sec["rows"][0]["actual_s"] = 3300.0
    twice = render_readme.replace_section(once, result, "full_run")
    assert twice.count("#### Full notebook run") == 1 and "3,300" in twice and "3,000" not in twice
    assert render_readme.replace_section(twice, result, "full_run") == twice  # stable
