"""One benchmark command: model quality and pipeline speed, side by side, as a table.

    .venv/bin/python bench/run.py                      # everything (~40 min on 2 CPU cores)
    .venv/bin/python bench/run.py --quick              # fast subset (< 2 min): proves the command works
    .venv/bin/python bench/run.py --only quality,api   # some sections
    .venv/bin/python bench/render_readme.py            # README block from bench/out/bench.json

Sections (--only takes these names): quality (every model on every dataset in
../shared/datasets beside a TF-IDF+LinearSVC reference, and the gap to it), quickstart
(Quick Start wall time), install (the pull request check from nothing to the comment body:
today's uv + quickstart lock vs the old pip + requirements-ci.txt, cold and warm cache), scale (Steps 2-5 on 10k/100k/1M generated rows, via
bench/scale_steps.py), train_throughput (notebook training settings vs Hugging Face
defaults), latency (predict() p50/p99), api (/predict requests/s under wrk vs a constant
endpoint), go_tool (notebook build + validate time), gpu (shows bench/out/gpu_check.json
when bench/gpu_check.py was run on a GPU machine; measures nothing itself).

full_run (bench/full_run.py) runs only when named: the whole notebook in full mode on the
asaniczka random 10k sample within --budget-minutes (default 60), planned vs actual time per
step. read_once (speed.read_once) also runs only when named: Steps 2-3 at 1.4M generated rows
(--scale-sizes) by an earlier checkout's code (--before, e.g. a git worktree of the commit
before the read-once loader) and by this tree's, wall time, peak RSS and CSV reads side by side:

    git worktree add /tmp/wt-before <commit>
    .venv/bin/python bench/run.py --only read_once --before /tmp/wt-before --out /tmp/bench-read-once
    .venv/bin/python bench/render_readme.py --json /tmp/bench-read-once/bench.json --section read_once

Writes bench/out/bench.json (all numbers), bench/out/bench.md (the same as Markdown) and
prints the tables. Numbers are measurements of this machine at this moment, not
assertions: nothing here fails because something is slow. The exit status is 1 only when
a section raised an error.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# bench/ goes first: a pipeline module with the same name must not shadow a bench module.
sys.path.insert(0, str(REPO / "cells" / "src"))
sys.path.insert(0, str(HERE))
# Keras must use torch (no TensorFlow here or in CI); no run may reach for the Hub.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import tables  # noqa: E402

SECTIONS = ("quality", "quickstart", "install", "scale", "train_throughput", "latency", "api", "go_tool", "gpu")


# Run only when asked for (--only): they take as long as their budget.
LONG_SECTIONS = ("full_run", "read_once")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_section(name: str, quick: bool, out_dir: Path, args) -> list[tuple[str, dict]]:
    """(key, section) pairs; a section that raises is recorded as an error, the rest still run."""
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    try:
        if name == "quality":
            import quality

            result = quality.run(quick, Path(args.cache_dir), use_cache=not args.no_cache,
                                 datasets=args.datasets, models_only=args.models,
                                 skip_uncached=args.skip_uncached, log=log)
        elif name == "scale":
            import speed

            result = [("scale", speed.scale(quick, out_dir, log=log, sizes=args.scale_sizes, reuse=args.reuse_scale))]
        elif name == "install":
            import install

            result = [("install", install.run(quick, out_dir, log=log))]
        elif name == "full_run":
            import full_run

            result = [("full_run", full_run.run(quick, out_dir, log=log, minutes=args.budget_minutes))]
        elif name == "read_once":
            import speed

            if not args.before:
                raise SystemExit("read_once needs --before: a checkout of the code to compare against")
            rows = (args.scale_sizes or [1_400_000])[0]
            result = [("read_once", speed.read_once(out_dir, args.before, rows=rows, log=log))]
        elif name == "api":
            import api_load

            result = [("api", api_load.run(quick, out_dir, log=log))]
        else:
            import speed

            result = [(name, getattr(speed, name)(quick, out_dir, log=log))]
    except Exception as e:
        log(traceback.format_exc())
        result = [(name, tables.section(name, [], status="error", note=f"{type(e).__name__}: {e}"[:500]))]
    conditions = {"load_avg_1m": [round(load0, 1), round(os.getloadavg()[0], 1)], "nice": os.nice(0),
                  **{k: os.environ[k] for k in ("OMP_NUM_THREADS", "BENCH_THREADS") if k in os.environ}}
    for _, sec in result:
        sec["seconds"] = round(time.perf_counter() - t0, 1)
        # --merge can combine sections from different runs: each keeps when and how it ran.
        sec["measured_at"] = tables.now_utc()
        sec["conditions"] = conditions
    log(f"[bench] {name}: {', '.join(s['status'] for _, s in result)} in {time.perf_counter() - t0:.0f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--quick", action="store_true", help="fast subset (< 2 min) that CI runs")
    ap.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}; only when named: "
                    f"{','.join(LONG_SECTIONS)}")
    ap.add_argument("--budget-minutes", type=float, default=60.0,
                    help="full_run: TIME_BUDGET_MINUTES for the whole notebook (default 60)")
    ap.add_argument("--out", default=str(HERE / "out"), help="output folder (default bench/out)")
    ap.add_argument("--datasets", help="quality: comma-separated dataset names (default all)")
    ap.add_argument("--models", help="quality: comma-separated model keys (default all)")
    ap.add_argument("--no-cache", action="store_true", help="quality: retrain even cached models")
    ap.add_argument("--skip-uncached", help="quality: comma-separated model keys reported as not run "
                    "unless a cached result exists (e.g. finetune_minilm: ~1 h per dataset on 2 busy cores)")
    ap.add_argument("--scale-sizes", help="scale: comma-separated row counts of the plan to run (default all)")
    ap.add_argument("--before", help="read_once: a checkout of the earlier code (git worktree add /tmp/wt-before "
                    "<commit>), its Steps 2-3 measured beside this tree's; rows from --scale-sizes (default 1400000)")
    ap.add_argument("--reuse-scale", action="store_true",
                    help="scale: keep a size's earlier results (bench/out/scale/rows_N) when its steps match")
    ap.add_argument("--cache-dir", default=str(HERE / "out" / "cache"),
                    help="where slow results are kept between runs (default bench/out/cache)")
    ap.add_argument("--merge", action="store_true",
                    help="keep sections of an earlier bench.json that this run doesn't redo")
    ap.add_argument("--merge-from", action="append", default=[], metavar="BENCH_JSON",
                    help="also keep the sections of this bench.json (from a run with another --out)")
    args = ap.parse_args(argv)
    args.datasets = args.datasets.split(",") if args.datasets else None
    args.models = args.models.split(",") if args.models else None
    args.skip_uncached = args.skip_uncached.split(",") if args.skip_uncached else None
    args.scale_sizes = [int(x) for x in args.scale_sizes.split(",")] if args.scale_sizes else None

    only = [s.strip() for s in args.only.split(",")] if args.only else list(SECTIONS)
    unknown = [s for s in only if s not in SECTIONS + LONG_SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS + LONG_SECTIONS)}")
    # Absolute: servers and subprocesses run in other working directories.
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)

    json_path = out_dir / "bench.json"
    result = {"date": tables.now_utc(), "quick": args.quick, "machine": tables.machine_info(),
              "command": " ".join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
              "load_avg_start": list(os.getloadavg()), "nice": os.nice(0),
              "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "BENCH_THREADS")
                             if k in os.environ},
              "sections": {}}
    earlier = ([json_path] if args.merge and json_path.is_file() else []) + [Path(p) for p in args.merge_from]
    for path in earlier:
        result["sections"].update(json.loads(path.read_text(encoding="utf-8")).get("sections", {}))
    t0 = time.perf_counter()
    for name in only:
        for key, sec in run_section(name, args.quick, out_dir, args):
            result["sections"][key] = sec
    result["load_avg_end"] = list(os.getloadavg())
    result["total_seconds"] = round(time.perf_counter() - t0, 1)

    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    (out_dir / "bench.md").write_text(tables.to_markdown(result), encoding="utf-8")
    print(tables.to_text(result))
    log(f"[bench] wrote {json_path} and {out_dir / 'bench.md'} in {result['total_seconds']:.0f} s")
    return 1 if any(s["status"] == "error" for s in result["sections"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
