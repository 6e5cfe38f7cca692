"""Speed sections: Quick Start wall time, Steps 2-5 at scale, training throughput, predict()
latency, and the Go tool's build/validate time. Each returns one tables.section.

Every number is measured in this run on this machine; ratios compare measurements taken
minutes apart on the same hardware. Nothing asserts a time: a slow result is a finding.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import loaders
from tables import section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SRC = REPO / "cells" / "src"
QUICKSTART_GOAL_S = 30.0


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(SRC), "KERAS_BACKEND": "torch", "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "MPLBACKEND": "Agg"}


# --- the Go tool ---------------------------------------------------------------------------

_BINARY: dict = {}


def go_binary(out_dir: Path) -> tuple[Path | None, str]:
    """Compile the Go tool once per bench run (`go build -o`), so timings exclude compilation."""
    if "path" in _BINARY:
        return _BINARY["path"], _BINARY["note"]
    go = shutil.which("go")
    if go is None:
        _BINARY.update(path=None, note="go is not on PATH")
        return None, _BINARY["note"]
    target = out_dir / "bin" / "colab-notebook-action"
    target.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run([go, "build", "-o", str(target), "."], cwd=REPO, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        _BINARY.update(path=None, note=f"go build failed: {proc.stderr.strip()[-400:]}")
    else:
        _BINARY.update(path=target, note="", build_s=secs)
    return _BINARY["path"], _BINARY["note"]


def _time_cmd(cmd: list[str], reps: int, cwd: Path = REPO) -> tuple[list[float], subprocess.CompletedProcess]:
    times, proc = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_env())
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            break
    return times, proc


def go_tool(quick: bool, out_dir: Path, log=print) -> dict:
    binary, why = go_binary(out_dir)
    cols = ["command", "runs", "median_s", "min_s", "status"]
    if binary is None:
        return section("Go tool: notebook build and validate", cols, status="error", note=why)
    reps = 2 if quick else 5
    rows = [{"command": "go build -o BIN . (compile, warm module cache)", "runs": 1,
             "median_s": round(_BINARY["build_s"], 2), "min_s": round(_BINARY["build_s"], 2), "status": "ok"}]
    with tempfile.TemporaryDirectory() as d:
        for name, cmd in (("BIN build --cells cells --out TMP", [str(binary), "build", "--cells", "cells", "--out", d]),
                          ("BIN validate --cells cells", [str(binary), "validate", "--cells", "cells"])):
            times, proc = _time_cmd(cmd, reps)
            ok = proc.returncode == 0
            rows.append({"command": name, "runs": len(times), "median_s": round(statistics.median(times), 3),
                         "min_s": round(min(times), 3),
                         "status": "ok" if ok else f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-200:]}"})
            log(f"[go_tool] {name}: {rows[-1]['median_s']} s ({rows[-1]['status']})")
    failed = [r for r in rows if r["status"] != "ok"]
    return section("Go tool: notebook build and validate", cols, rows, status="error" if failed else "ok",
                   note="The compiled binary, timed end to end (process start included); "
                        "validate runs the Python syntax check of every cell too.")


# --- Quick Start -------------------------------------------------------------------------------

def _asaniczka_zip(tmp: Path) -> Path:
    """The two Kaggle files zipped the way a user uploads them."""
    folder = loaders.DATASETS["asaniczka_random10k"].path()
    archive = tmp / "amazon-products-dataset-2023.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(folder / "amazon_products_sample.csv", "amazon_products.csv")
        zf.write(folder / "amazon_categories.csv", "amazon_categories.csv")
    return archive


def _quickstart_via_go(binary: Path, data: Path | None, tmp: Path) -> dict:
    root, build = tmp / "root", tmp / "build"
    cmd = [str(binary), "run", "--mode", "quickstart", "--cells", "cells", "--out", str(build),
           "--project-root", str(root)]
    if data is not None:
        cmd += ["--data", str(data)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=_env(), timeout=900)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-400:]}")
    metrics_file = root / "results" / "quickstart_metrics.json"
    if not metrics_file.is_file():
        # exit 0 without metrics = no cell is tagged quickstart: nothing was measured
        raise RuntimeError(f"exit 0 but no {metrics_file.name} written (no quickstart cells built?)")
    return {"wall_s": wall, "metrics": json.loads(metrics_file.read_text())}


def _quickstart_direct(data: Path | None, tmp: Path) -> dict:
    """quickstart.run in a fresh Python, so imports are paid as in a fresh kernel."""
    root = tmp / "root"
    code = ("import json,sys,time; t=time.perf_counter(); import project, quickstart; from config import Config; "
            f"cfg=Config.for_mode('quickstart', project_root={str(root)!r}, data_path={str(data or '')!r}); "
            f"paths=project.make_tree({str(root)!r}); quickstart.run(cfg, paths)")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=_env(),
                          timeout=900)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    metrics_file = root / "results" / "quickstart_metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    return {"wall_s": wall, "metrics": metrics}


def quickstart(quick: bool, out_dir: Path, log=print) -> dict:
    binary, why = go_binary(out_dir)
    via = "go tool: BIN run --mode quickstart" if binary else "quickstart.run (Go tool unavailable: " + why + ")"
    cases = [("built-in demo catalogue", None)]
    if not quick and loaders.DATASETS["asaniczka_random10k"].available():
        cases.append(("asaniczka random 10k (zip)", "asaniczka"))
    rows = []
    cols = ["data", "via", "wall_s", "goal_s", "goal_met", "accuracy", "macro_f1", "n_train", "n_test",
            "n_classes", "train_seconds", "status"]
    for label, kind in cases:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            data = _asaniczka_zip(tmp) if kind == "asaniczka" else None
            try:
                row_via = via
                try:
                    res = _quickstart_via_go(binary, data, tmp) if binary else _quickstart_direct(data, tmp)
                except RuntimeError as go_err:
                    if not binary:
                        raise
                    # The notebook's cells may be mid-edit; the module path still measures the work.
                    row_via = f"quickstart.run (go tool failed: {str(go_err)[:160]})"
                    shutil.rmtree(tmp / "root", ignore_errors=True)
                    res = _quickstart_direct(data, tmp)
                m = res["metrics"]
                rows.append({"data": label, "via": row_via, "wall_s": round(res["wall_s"], 1), "goal_s": QUICKSTART_GOAL_S,
                             "goal_met": res["wall_s"] <= QUICKSTART_GOAL_S,
                             **{k: m.get(k) for k in ("accuracy", "macro_f1", "n_train", "n_test", "n_classes",
                                                      "train_seconds")}, "status": "ok"})
            except Exception as e:
                rows.append({"data": label, "via": via, "status": f"error: {e}"[:300]})
        log(f"[quickstart] {label}: {rows[-1].get('wall_s')} s {rows[-1]['status']}")
    failed = [r for r in rows if r["status"] != "ok"]
    return section("Quick Start wall time (goal ≤ 30 s on 2 cores, installs excluded)", cols, rows,
                   status="error" if failed else "ok",
                   note="Wall time of the whole command: kernel start, data load, cleaning, TF-IDF, "
                        "training, evaluation and writing artifacts; train_seconds is the model fit alone.")


# --- Steps 2-5 at 10k / 100k / 1.4M rows (bench/scale_steps.py, written by a teammate) -------

# (rows, steps, per-step timeout s). Every step at every size, the user's 1.4M rows last: the
# methods that can't take every row run on the stratified subsamples Config sizes them to (and
# smaller CPU caps for the Keras LSTM and the hybrid's embeddings), so the table shows what the
# notebook's defaults cost, not what an uncapped method would.
ALL_STEPS = "load,eda,preprocess,steps_2_3,features,logreg,linear_svc,naive_bayes,random_forest,lstm,hybrid"
SCALE_PLAN_FULL = (
    (10_000, ALL_STEPS, 900),
    (100_000, ALL_STEPS, 1200),
    (1_400_000, ALL_STEPS, 1800),
)
SCALE_PLAN_QUICK = ((2_000, "load,preprocess,features", 120),)


def scale(quick: bool, out_dir: Path, log=print, sizes: list[int] | None = None, reuse: bool = False) -> dict:
    """sizes: only these row counts of the plan; reuse: keep a size's earlier scale_steps.json when it
    ran the same steps (a 1M-row pass takes most of an hour here: re-rendering shouldn't redo it)."""
    script = HERE / "scale_steps.py"
    cols = ["rows", "step", "status", "wall_s", "peak_rss_mb", "details"]
    title = "Steps 2-5 at scale: time and peak RSS per step (bench/scale_steps.py)"
    if not script.is_file():
        return section(title, cols, status="not run", note="bench/scale_steps.py is not in the tree yet")
    rows, errors = [], []
    plan = [p for p in (SCALE_PLAN_QUICK if quick else SCALE_PLAN_FULL) if not sizes or p[0] in sizes]
    reused, conditions = [], {}
    for n_rows, steps, timeout in plan:
        # Not bench/out/scale_<rows>: that is scale_steps.py's default folder, used when it is run by hand.
        target = out_dir / "scale" / f"rows_{n_rows}"
        doc_path = target / "scale_steps.json"
        earlier = json.loads(doc_path.read_text()) if reuse and doc_path.is_file() else None
        ran = [r["step"] for r in earlier["steps"] if r["step"] != "generate"] if earlier else []
        cond_path = target / "bench_conditions.json"
        if earlier and ran == steps.split(","):
            reused.append(f"{n_rows:,}")
            conditions[f"{n_rows} rows"] = (json.loads(cond_path.read_text()) if cond_path.is_file()
                                            else "measured in an earlier run; its load was not recorded")
        else:
            cmd = [sys.executable, str(script), "--rows", str(n_rows), "--out", str(target), "--steps", steps,
                   "--step-timeout", str(timeout)]
            t0 = time.perf_counter()
            load0 = os.getloadavg()[0]
            doc_path.unlink(missing_ok=True)
            proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=_env(),
                                  timeout=timeout * (len(steps.split(",")) + 1) + 600)
            log(f"[scale] {n_rows:,} rows: exit {proc.returncode} in {time.perf_counter() - t0:.0f} s")
            if proc.returncode != 0 or not doc_path.is_file():
                errors.append(f"{n_rows:,} rows: exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-300:]}")
                continue
            # Kept beside the results, so a reused size still says how busy the machine was.
            cond = {"measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "load_avg_1m": [round(load0, 1), round(os.getloadavg()[0], 1)], "nice": os.nice(0),
                    **{k: os.environ[k] for k in ("OMP_NUM_THREADS",) if k in os.environ}}
            cond_path.write_text(json.dumps(cond) + "\n")
        for r in json.loads(doc_path.read_text())["steps"]:
            details = {k: v for k, v in r.items() if k not in ("step", "status", "wall_s", "peak_rss_mb", "error", "seconds")}
            rows.append({"rows": n_rows, "step": r["step"], "status": r["status"], "wall_s": r["wall_s"],
                         "peak_rss_mb": r["peak_rss_mb"],
                         "details": ", ".join(f"{k}={v}" for k, v in details.items())})
    figures = {}
    by = {(r["rows"], r["step"]): r for r in rows if r["status"] == "ok"}
    sizes = sorted({r["rows"] for r in rows})
    for a, b in zip(sizes, sizes[1:]):
        for step in ("load", "preprocess", "features", "logreg", "linear_svc", "naive_bayes", "random_forest"):
            if (a, step) in by and (b, step) in by and by[(a, step)]["wall_s"] > 0:
                figures[f"{step} time {b / 1000:g}k/{a / 1000:g}k"] = round(by[(b, step)]["wall_s"] / by[(a, step)]["wall_s"], 1)
        if (a, "features") in by and (b, "features") in by:
            figures[f"features peak RSS {b / 1000:g}k/{a / 1000:g}k"] = round(
                by[(b, "features")]["peak_rss_mb"] / max(1, by[(a, "features")]["peak_rss_mb"]), 1)
    bad = [r for r in rows if r["status"] == "error"]
    note = ("Generated catalogues in the user's asaniczka schema (demo_data.write_asaniczka); each step runs "
            "with the default (full) Config in its own process, peak RSS from wait4; a step past its timeout "
            "shows status timeout. No GPU here, so the LSTM and the hybrid use their CPU row caps.")
    if reused:
        note += f" Reused the earlier run's results for {', '.join(reused)} rows (--reuse-scale)."
    if errors:
        note = " ".join(errors) + " " + note
    sec = section(title, cols, rows, status="error" if (errors or bad) else "ok", note=note, figures=figures)
    if conditions:
        sec["reused_conditions"] = conditions
    return sec


def read_once(out_dir: Path, before: str, rows: int = 1_400_000, log=print, timeout: float = 1800.0) -> dict:
    """Steps 2-3 as the notebook runs them (the verify cell, Step 2, Step 3 in one process) on one
    generated catalogue: the stage code of `before` (a checkout of the commit before the read-once
    loader, e.g. a git worktree) against this tree's, one after the other, each with no parse cache;
    this tree's then runs again and finds the cache its first run wrote (a re-run, or the notebook
    after its Quick Start parsed the data). Then each version's verify load, Step 2 and Step 3 run
    alone, each in its own process, to show which step holds the peak. Wall time, peak RSS and the
    CSV reads of each."""
    script = HERE / "scale_steps.py"
    title = f"Steps 2-3 at {rows / 1e6:g}M rows: before and after the read-once loader (bench/scale_steps.py --src)"
    cols = ["code", "run", "status", "wall_s", "peak_rss_mb", "csv_reads", "csv_rows_read", "load_avg_1m"]
    alone = {"load": "the load alone", "eda": "Step 2 alone", "preprocess": "Step 3 alone"}
    before_src = Path(before).resolve() / "cells" / "src"
    if not before_src.is_dir():
        return section(title, cols, status="error", note=f"{before_src} is not a checkout's cells/src "
                       "(git worktree add /tmp/wt-before <commit>; bench/run.py --only read_once --before /tmp/wt-before)")
    base = out_dir / "read_once" / f"rows_{rows}"
    shutil.rmtree(base, ignore_errors=True)
    table, errors, docs = [], [], {}
    for label, src, steps in (("before", before_src, "steps_2_3,load,eda,preprocess"),
                              ("after", SRC, "steps_2_3,steps_2_3,load,eda,preprocess")):
        target = base / label
        raw = target / "project" / "data" / "raw"
        if label == "after":  # the same catalogue, bytes and mtime, hard-linked: generated once
            raw.mkdir(parents=True)
            for f in (base / "before" / "project" / "data" / "raw").iterdir():
                os.link(f, raw / f.name)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script), "--rows", str(rows), "--out", str(target), "--steps", steps,
                               "--step-timeout", str(timeout), "--src", str(src)],
                              cwd=REPO, capture_output=True, text=True, env=_env(), timeout=timeout * 3 + 900)
        load = [round(load0, 1), round(os.getloadavg()[0], 1)]
        log(f"[read_once] {label}: exit {proc.returncode} in {time.perf_counter() - t0:.0f} s, load {load}")
        doc_path = target / "scale_steps.json"
        if proc.returncode != 0 or not doc_path.is_file():
            errors.append(f"{label}: exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-300:]}")
            break
        docs[label] = doc = json.loads(doc_path.read_text())
        runs = [r for r in doc["steps"] if r["step"] != "generate"]
        for i, r in enumerate(runs):
            cache = "parse cache present" if label == "after" and i > 0 else "no parse cache"
            run = f"Steps 2-3, {cache}" if r["step"] == "steps_2_3" else f"{alone.get(r['step'], r['step'])}, {cache}"
            table.append({"code": f"{label} ({doc.get('commit') or src})", "run": run,
                          "status": r["status"], "wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"],
                          "csv_reads": r.get("csv_reads"), "csv_rows_read": r.get("csv_rows_read"),
                          "load_avg_1m": " → ".join(map(str, load))})
    figures = {}
    ok = [r for r in table if r["status"] == "ok" and r["run"].startswith("Steps 2-3")]
    if len(ok) == 3 and ok[0]["wall_s"] > 0:
        b, first, again = ok
        figures = {"wall time, after / before (first run)": round(first["wall_s"] / b["wall_s"], 2),
                   "peak RSS, after / before (first run)": round(first["peak_rss_mb"] / b["peak_rss_mb"], 2),
                   "wall time, after with the cache / before": round(again["wall_s"] / b["wall_s"], 2),
                   "peak RSS, after with the cache / before": round(again["peak_rss_mb"] / b["peak_rss_mb"], 2)}
    by = {(r["code"].split()[0], r["run"].split(",")[0]): r for r in table if r["status"] == "ok"}
    for what in alone.values():
        if ("before", what) in by and ("after", what) in by:
            figures[f"{what}: peak RSS, after / before"] = round(by[("after", what)]["peak_rss_mb"]
                                                               / by[("before", what)]["peak_rss_mb"], 2)
    note = (f"One generated catalogue in the user's asaniczka schema (demo_data.write_asaniczka, {rows:,} rows + the "
            "categories table), default (full) Config, force=True; each run is its own process (peak RSS from wait4). "
            "csv_reads: pandas.read_csv calls that returned rows (header peeks aside; each parse reads the products "
            "and the categories table). The two versions ran one after the other on the same shared CPU.")
    if errors:
        note = " ".join(errors) + " " + note
    bad = errors or any(r["status"] != "ok" for r in table)
    return section(title, cols, table, status="error" if bad else "ok", note=note, figures=figures)


# --- transformer training throughput: notebook settings vs Hugging Face defaults ---------

def _minilm_dir() -> str | None:
    import hybrid

    return hybrid.packaged_minilm_dir()


def train_throughput(quick: bool, out_dir: Path, log=print) -> dict:
    """Same model, data and batch size, trained through finetune.build_trainer twice: once as
    the notebook configures it (dynamic padding, length-grouped batches, fp16/bf16 on GPU),
    once with Hugging Face's defaults (fp32, every row padded to max_length, random batches)."""
    import pandas as pd
    import torch
    from transformers import DataCollatorWithPadding

    import device as device_mod
    import finetune
    import gpu_check
    import project
    from config import Config

    model_dir = None if quick else _minilm_dir()
    model_name = model_dir or "tiny-bert"
    batch, warmup, timed = (4, 1, 2) if quick else (16, 1, 5)
    ds = loaders.DATASETS["asaniczka_random10k"]
    n = batch * (warmup + timed) * 2
    if ds.available():
        df = ds.load().sample(n=n, random_state=42).reset_index(drop=True)
        data_label = "asaniczka titles"
    else:
        import demo_data

        df = demo_data.make_catalogue(n, seed=42)[["product_title", "product_description", "category"]]
        data_label = "demo catalogue"
    classes = sorted(df["category"].astype(str).unique())
    id2label = dict(enumerate(classes))
    label2id = {c: i for i, c in id2label.items()}
    df["label"] = df["category"].astype(str).map(label2id)
    dev = device_mod.device_info()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        paths = project.make_tree(d)
        cfg = Config.for_mode("full", project_root=d, model_name=model_name, max_length=128)
        settings = {"model_name": model_name, "batch_size": batch, "grad_accum": 1,
                    "use_cpu": not dev["cuda_available"]}
        for setting in ("hf_defaults", "notebook"):
            timer = gpu_check.StepTimer(warmup, max_seconds=600.0, sync=dev["cuda_available"])
            overrides = {}
            if setting == "hf_defaults":
                overrides = dict(train_sampling_strategy="random", fp16=False, bf16=False)
            torch.manual_seed(42)
            trainer, tokenizer, _ = finetune.build_trainer(
                cfg, paths, settings, df, None, id2label, label2id, output_dir=str(Path(d) / setting),
                device=dev, callbacks=[timer], max_steps=warmup + timed, report_to="none", save=False, **overrides)
            if setting == "hf_defaults":
                trainer.data_collator = DataCollatorWithPadding(tokenizer, padding="max_length",
                                                                max_length=cfg.max_length)
            trainer.train()
            secs = timer.t_end - timer.t_warm
            args = trainer.args
            rows.append({"setting": setting, "model": "all-MiniLM-L6-v2" if model_dir else model_name,
                         "device": dev["device"], "precision": "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32",
                         "padding": f"max_length={cfg.max_length}" if setting == "hf_defaults" else "dynamic",
                         "length_grouping": setting == "notebook", "batch_size": batch,
                         "timed_steps": timer.steps_after_warmup,
                         "samples_per_s": round(timer.steps_after_warmup * batch / secs, 2)})
            log(f"[train_throughput] {setting}: {rows[-1]['samples_per_s']} samples/s")
    ratio = rows[1]["samples_per_s"] / rows[0]["samples_per_s"]
    return section("Transformer training throughput: notebook settings vs Hugging Face defaults",
                   list(rows[0]), rows, figures={"speed-up (notebook / HF defaults)": round(ratio, 2)},
                   note=f"Both through finetune.build_trainer on the same {n} {data_label}, {timed} timed steps "
                        f"after {warmup} warm-up step(s). On CPU the difference is padding and grouping only "
                        "(mixed precision needs a GPU: bench/gpu_check.py measures that).")


# --- predict() latency ---------------------------------------------------------------------------

def _percentiles(ms: list[float]) -> dict:
    import numpy as np

    a = np.asarray(ms)
    return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p99_ms": round(float(np.percentile(a, 99)), 2),
            "mean_ms": round(float(a.mean()), 2)}


def latency(quick: bool, out_dir: Path, log=print) -> dict:
    """inference.predict(title, description, top_k=3) one product at a time, as the API calls it."""
    import inference
    import serving

    root, info = serving.serving_root(quick, out_dir, log)
    texts = serving.sample_texts(200)
    reps = {"baseline": 30 if quick else 400, "bert": 10 if quick else 200}
    rows = []
    for kind in ("baseline", "bert"):
        inference.clear_cache()
        t0 = time.perf_counter()
        inference.get_predictor(kind, str(root))
        load_s = time.perf_counter() - t0
        for title, desc in texts[:5]:  # warm-up: first calls pay lazy imports and allocations
            inference.predict(title, desc, top_k=3, model=kind, project_root_dir=str(root))
        ms = []
        for i in range(reps[kind]):
            title, desc = texts[i % len(texts)]
            t = time.perf_counter()
            inference.predict(title, desc, top_k=3, model=kind, project_root_dir=str(root))
            ms.append((time.perf_counter() - t) * 1000)
        rows.append({"model": kind, "trained_on_or_arch": info[kind], "calls": len(ms), **_percentiles(ms),
                     "load_s": round(load_s, 2)})
        log(f"[latency] {kind}: p50 {rows[-1]['p50_ms']} ms, p99 {rows[-1]['p99_ms']} ms")
    inference.clear_cache()
    ratio = rows[1]["p50_ms"] / rows[0]["p50_ms"] if rows[0]["p50_ms"] else None
    return section("predict() latency, one product per call", list(rows[0]), rows,
                   figures={"bert p50 / baseline p50": round(ratio, 1) if ratio else None},
                   note="inference.predict(title, description, top_k=3) after 5 warm-up calls; titles are real "
                        "asaniczka titles; load_s is the first get_predictor (model load).")


# --- GPU check results (measured elsewhere by bench/gpu_check.py) ------------------------------

def gpu(quick: bool, out_dir: Path, log=print) -> dict:
    """Shows bench/out/gpu_check.json when it came from a GPU run; this machine measures nothing here."""
    cols = ["setting", "precision", "padding", "length_grouping", "batch_size", "timed_steps", "samples_per_s",
            "peak_gpu_mem_gib"]
    title = "GPU fine-tuning throughput: BERT-base, notebook settings vs HF defaults (bench/gpu_check.py)"
    path = out_dir / "gpu_check.json"
    if not quick and shutil.which("nvidia-smi"):
        # A GPU is here: measure now instead of showing an older file.
        proc = subprocess.run([sys.executable, str(HERE / "gpu_check.py"), "--out", str(path), "--skip-notebook"],
                              cwd=REPO, capture_output=True, text=True, env=_env(), timeout=900)
        log(f"[gpu] gpu_check.py exit {proc.returncode}")
    doc = json.loads(path.read_text()) if path.is_file() else None
    if not doc or doc.get("mode") != "gpu" or "throughput" not in doc:
        return section(title, cols, status="not run",
                       note="No GPU run recorded: on a machine with an NVIDIA GPU run "
                            "`python bench/gpu_check.py --out bench/out/gpu_check.json`, then re-render.")
    g, t = doc["gpu"], doc["throughput"]
    nb = doc.get("notebook_smoke", {})
    return section(title, cols, t["rows"], figures={"speed-up (notebook / HF defaults)": t.get("speedup")},
                   note=f"{g.get('name')} ({g.get('memory_gib')} GiB, capability {g.get('capability')}), torch "
                        f"{g.get('torch')}, transformers {g.get('transformers')}; {t['model']}, max_length "
                        f"{t['max_length']}, title lengths median {t['token_length']['median']:g} tokens. "
                        f"Smoke notebook: {nb.get('status')} {nb.get('seconds', '')} {nb.get('note', '')}".strip())
