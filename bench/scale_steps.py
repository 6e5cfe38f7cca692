"""Scale benchmark for Steps 2-5 at the user's size: time and peak RSS per step.

Generates a catalogue in the exact Kaggle asaniczka schema (demo_data.write_asaniczka), then runs
each step's module function with the default Config in its own subprocess, so the peak RSS of
every step is measured separately (os.wait4 rusage of that child).

    .venv/bin/python bench/scale_steps.py --rows 100000
    .venv/bin/python bench/scale_steps.py --rows 1400000 --step-timeout 900
    .venv/bin/python bench/scale_steps.py --rows 1400000 --steps steps_2_3 --src /tmp/wt-before/cells/src

--src runs another checkout's stage code (a `git worktree` of an earlier commit) under this driver,
so a before/after comparison measures the same steps the same way (bench/run.py --only read_once).
Every step also reports csv_reads / csv_rows_read: the pandas.read_csv calls that read rows (the
header-only peeks aside) and how many rows they returned, i.e. how often the raw data was parsed.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "cells" / "src"
# steps_2_3 is the notebook's own order in one process (one kernel): verify the data, Step 2, Step 3.
STEPS = ("load", "eda", "preprocess", "steps_2_3", "features", "logreg", "linear_svc", "naive_bayes", "random_forest", "lstm",
         "hybrid")


def _count_csv_reads() -> dict:
    """Count pandas.read_csv calls that return rows, wherever the stage code calls it from."""
    import pandas as pd

    seen = {"csv_reads": 0, "csv_rows_read": 0}
    real = pd.read_csv

    def counting(*args, **kwargs):
        out = real(*args, **kwargs)
        if kwargs.get("nrows") != 0 and isinstance(out, pd.DataFrame):
            seen["csv_reads"] += 1
            seen["csv_rows_read"] += len(out)
        return out

    pd.read_csv = counting
    return seen


def child(step: str, root: str, overrides: dict) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import baselines
    import data
    import eda
    import feature_engineering
    import preprocess
    from config import Config
    from project import make_tree

    paths = make_tree(root)
    cfg = Config(project_root=root, force=True, **overrides)
    reads = _count_csv_reads()
    t0 = time.perf_counter()
    extra = {}
    if step == "load":
        df, info = data.load_dataset(cfg, paths)
        extra = {"rows": info["rows"], "classes": info["n_classes"], "mem_mb": round(df.memory_usage(deep=True).sum() / 2**20)}
    elif step == "eda":
        eda.run(cfg, paths)
    elif step == "preprocess":
        out = preprocess.run(cfg, paths)
        extra = {k: out[k] for k in ("train", "val", "test", "n_classes", "clean_seconds", "rows_per_second")}
    elif step == "steps_2_3":
        data.verify(cfg, paths)
        eda.run(cfg, paths)
        out = preprocess.run(cfg, paths)
        extra = {k: out[k] for k in ("train", "val", "test", "n_classes")}
    elif step == "features":
        out = feature_engineering.run(cfg, paths)
        extra = {"n_features": out["n_features"], "char_ngrams": out["char_ngrams"], "train_nnz": out["shapes"]["train"][2]}
    elif step == "lstm":
        from splits import load_label_map, load_split

        import lstm

        train, val, test = (load_split(paths, s, usecols=["text_clean", "category", "label"])
                            for s in ("train", "val", "test"))
        row = lstm.train(train, val, test, cfg, paths, n_classes=len(load_label_map(paths)[0]))
        extra = {"accuracy": round(row["accuracy"], 4), "macro_f1": round(row["macro_f1"], 4), "train_rows": row["train_rows"]}
    elif step == "hybrid":
        import hybrid

        r = hybrid.run(cfg, paths)["row"]
        extra = {"accuracy": round(r["accuracy"], 4), "macro_f1": round(r["macro_f1"], 4), "train_rows": r["train_rows"],
                 "n_test": r["n_test"], "fit_seconds": r["train_seconds"]}
    else:
        out = baselines.run(cfg, paths, models=[step], include_lstm=False)
        r = out["metrics"].iloc[0]
        extra = {"accuracy": round(float(r["accuracy"]), 4), "macro_f1": round(float(r["macro_f1"]), 4),
                 "train_rows": int(r["train_rows"]), "fit_seconds": float(r["train_seconds"])}
    extra["seconds"] = round(time.perf_counter() - t0, 1)
    extra.update(reads)
    print("RESULT " + json.dumps(extra))


def run_step(step: str, root: str, overrides: dict, timeout: float, src: Path = SRC) -> dict:
    # no internet here: don't let the HF tokenizer demo wait on hub retries
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cmd = [sys.executable, __file__, "--child", step, "--root", root, "--overrides", json.dumps(overrides),
           "--src", str(src)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = t0 + timeout
    lines = []
    import threading

    def pump():
        for line in proc.stdout:
            lines.append(line)
    th = threading.Thread(target=pump, daemon=True)
    th.start()
    status = "ok"
    while True:
        pid, wstatus, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, wstatus, usage = os.wait4(proc.pid, 0)
            status = "timeout"
            break
        time.sleep(0.5)
    th.join(timeout=5)
    wall = time.perf_counter() - t0
    result = {"step": step, "wall_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024), "status": status}
    for line in lines:
        if line.startswith("RESULT "):
            result.update(json.loads(line[7:]))
    if status == "ok" and os.waitstatus_to_exitcode(wstatus) != 0:
        result["status"] = "error"
        result["error"] = "".join(lines[-15:])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--out", default="")
    ap.add_argument("--steps", default=",".join(STEPS), help="comma list, default all")
    ap.add_argument("--step-timeout", type=float, default=1800.0)
    ap.add_argument("--set", action="append", default=[], help="Config override KEY=VALUE (default: none)")
    ap.add_argument("--src", default=str(SRC), help="the stage code to run (default this checkout's cells/src)")
    ap.add_argument("--child", default="")
    ap.add_argument("--root", default="")
    ap.add_argument("--overrides", default="{}")
    a = ap.parse_args()
    src = Path(a.src).resolve()
    if a.child:
        sys.path.insert(0, str(src))
        from config import Config

        raw = json.loads(a.overrides)
        typed = {k: getattr(Config.from_dict(raw), k) for k in raw} if raw else {}
        return child(a.child, a.root, typed)
    sys.path.insert(0, str(SRC))
    import demo_data

    out = Path(a.out or REPO / "bench" / "out" / f"scale_{a.rows}")
    root = out / "project"
    raw = root / "data" / "raw"
    overrides = dict(kv.split("=", 1) for kv in a.set)
    rows = []
    if not (raw / "amazon_products.csv").exists():
        t0 = time.perf_counter()
        demo_data.write_asaniczka(raw, a.rows)
        rows.append({"step": "generate", "wall_s": round(time.perf_counter() - t0, 1), "status": "ok",
                     "peak_rss_mb": round(__import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss / 1024)})
        print(rows[-1], flush=True)
    for step in a.steps.split(","):
        rows.append(run_step(step, str(root), overrides, a.step_timeout, src))
        print({k: v for k, v in rows[-1].items() if k != "error"}, flush=True)
        if rows[-1]["status"] == "error":
            print(rows[-1]["error"], flush=True)
    print(f"\nScale benchmark: {a.rows:,} rows, default Config{' + ' + str(overrides) if overrides else ''}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'step':<14}{'status':<9}{'wall s':>9}{'peak RSS MB':>13}  details")
    for r in rows:
        det = {k: v for k, v in r.items() if k not in ("step", "status", "wall_s", "peak_rss_mb", "error", "seconds")}
        print(f"{r['step']:<14}{r['status']:<9}{r['wall_s']:>9.1f}{r['peak_rss_mb']:>13,}  {det}")
    total = sum(r["wall_s"] for r in rows if r["step"] != "generate")
    print(f"total Steps 2-5 wall time: {total:.0f} s; max peak RSS: {max(r['peak_rss_mb'] for r in rows):,} MB")
    from atomic import atomic_write_json

    commit = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    atomic_write_json(out / "scale_steps.json", {"rows": a.rows, "overrides": overrides, "steps": rows,
                                                 "src": str(src), "commit": commit.stdout.strip() or None})


if __name__ == "__main__":
    main()
