"""The action's pull request check from nothing to the comment body written: installing the
notebook's Python packages, then `colab-notebook-action action` (build, validate, Quick Start on
the demo catalogue, local publish, comment body in build/pr-report/comment.md).

Side by side on this machine, each from an empty package cache and again from the cache the
first run filled (what actions/cache restores on a runner):

- before: pip installing the old requirements-ci.txt (git show a8c1403:requirements-ci.txt,
  the whole environment: torch, transformers, keras, ...) into a fresh venv, as action.yml did;
- now: uv installing env/quickstart.lock.txt (only what the Quick Start imports) into a
  fresh venv, as action.yml does for mode quickstart.

Disk is the venv plus the package cache (hard links counted once). Python itself and the Go
build are the same for both and left out. --quick runs only the new install, from the default
uv cache (no downloads).

    .venv/bin/python bench/run.py --only install
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from speed import go_binary
from tables import section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OLD_COMMIT = "a8c1403"  # the last commit with requirements-ci.txt
GOAL_TIME_RATIO = 0.2
GOAL_DISK_GB = 1.0


def _uv() -> list[str]:
    uv = shutil.which("uv")
    return [uv] if uv else [sys.executable, "-m", "uv"]


def _python313() -> str:
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    return str(base if base.exists() else sys.executable)


def _du_gb(*paths: Path) -> float:
    """Disk used by paths together (du counts a hard-linked file once)."""
    existing = [str(p) for p in paths if p.exists()]
    if not existing:
        return 0.0
    out = subprocess.run(["du", "-sk", "--total", *existing], capture_output=True, text=True, check=True).stdout
    return round(int(out.strip().splitlines()[-1].split()[0]) / 1024 ** 2, 3)


def _old_requirements(dest: Path) -> Path:
    text = subprocess.run(["git", "show", f"{OLD_COMMIT}:requirements-ci.txt"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout
    dest.write_text(text)
    return dest


def _pip_kept_nothing(cache: Path, venv_gb: float) -> bool:
    """pip's cache after the cold install holds next to nothing of what it installed."""
    return _du_gb(cache) < 0.1 * venv_gb


def _install(kind: str, venv: Path, cache: Path | None, req: Path, log, wheelhouse: Path | None = None) -> float:
    env = {**os.environ}
    t0 = time.perf_counter()
    if kind == "before":
        env["PIP_CACHE_DIR"] = str(cache)
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        subprocess.run([_python313(), "-m", "venv", str(venv)], check=True, env=env)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        if wheelhouse is not None:
            pip += ["--no-index", "--find-links", str(wheelhouse)]
        subprocess.run([*pip, "-r", str(req)], check=True, env=env)
    else:
        if cache is not None:
            env["UV_CACHE_DIR"] = str(cache)
        subprocess.run([*_uv(), "venv", "--quiet", "--python", _python313(), str(venv)], check=True, env=env)
        subprocess.run([*_uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-r", str(req)],
                       check=True, env=env)
    secs = time.perf_counter() - t0
    log(f"[install] {kind} install: {secs:.0f} s")
    return secs


def _pr_check(binary: Path, python: Path, work: Path) -> tuple[float, str, dict]:
    """The action on a pull_request event until it exits with comment.md written."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
           if k in os.environ}
    env.update({
        "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(REPO / "testdata" / "events" / "pull_request.json"),
        "GITHUB_REPOSITORY": "octo/shop", "GITHUB_SHA": "0" * 40, "GITHUB_WORKSPACE": str(work),
        "GITHUB_OUTPUT": str(work / "output"), "GITHUB_STEP_SUMMARY": str(work / "summary"),
        "INPUT_MODE": "quickstart", "INPUT_CELLS": str(REPO / "cells"), "INPUT_OUT_DIR": str(work / "build"),
        "INPUT_PROJECT_ROOT": str(work / "project"), "INPUT_LOCAL_DRIVE_ROOT": str(work / "_drive"),
        "INPUT_COMMENT": "false", "INPUT_PYTHON": str(python),
    })
    t0 = time.perf_counter()
    proc = subprocess.run([str(binary), "action"], cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    secs = time.perf_counter() - t0
    (work / "action.log").write_text(proc.stdout + proc.stderr)
    body = work / "build" / "pr-report" / "comment.md"
    metrics_file = work / "project" / "results" / "quickstart_metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    if not body.is_file():
        return secs, f"error: no comment body (exit {proc.returncode}): {proc.stdout[-300:]}", metrics
    if proc.returncode != 0:
        return secs, f"comment written; the run failed (exit {proc.returncode})", metrics
    return secs, "ok", metrics


def run(quick: bool, out_dir: Path, log=print) -> dict:
    cols = ["install", "packages", "cache", "install_s", "pr_check_s", "total_s", "venv_gb", "cache_gb", "disk_gb",
            "accuracy", "n_train", "status"]
    binary, why = go_binary(out_dir)
    if binary is None:
        return section("Pull request check: install + Quick Start until the comment is written", cols, [],
                       status="not run", note=f"the Go tool could not be built: {why}")
    cases = [("now", "cold"), ("now", "warm")] if not quick else [("now", "default")]
    if not quick:
        cases = [("before", "cold"), ("before", "warm")] + cases
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-install-") as d:
        tmp = Path(d)
        if not quick:
            subprocess.run([_python313(), "-m", "venv", str(tmp / "pip-venv")], check=True)
        req = {"before": _old_requirements(tmp / "requirements-ci.txt"), "now": REPO / "env" / "quickstart.lock.txt"}
        caches = {"before": tmp / "pip-cache", "now": tmp / "uv-cache"}
        for kind, cache_state in cases:
            work = tmp / f"{kind}-{cache_state}"
            work.mkdir()
            venv = work / "venv"
            cache = None if cache_state == "default" else caches[kind]
            label = {"before": "pip, old requirements-ci.txt", "now": "uv, env/quickstart.lock.txt"}[kind]
            row = {"install": kind, "packages": label, "cache": cache_state}
            try:
                wheelhouse = None
                cold = next((r for r in rows if r["install"] == kind and r["cache"] == "cold"), {})
                if kind == "before" and cache_state == "warm" and _pip_kept_nothing(cache, cold.get("venv_gb") or 1.0):
                    # pip kept nothing (a registry mirror that answers "no-store"): what a restored
                    # cache gives at best is the wheels on disk, so fill a folder with them (untimed).
                    wheelhouse = tmp / "wheelhouse"
                    subprocess.run([str(tmp / "pip-venv" / "bin" / "python"), "-m", "pip", "download", "--quiet",
                                    "-d", str(wheelhouse), "-r", str(req[kind])], check=True)
                    row["cache"] = "warm (wheel folder)"
                    cache = wheelhouse
                row["install_s"] = round(_install(kind, venv, cache, req[kind], log, wheelhouse), 1)
                pr_s, status, metrics = _pr_check(binary, venv / "bin" / "python", work)
                row.update(pr_check_s=round(pr_s, 1), total_s=round(row["install_s"] + pr_s, 1), status=status,
                           accuracy=metrics.get("accuracy"), n_train=metrics.get("n_train"))
                row["venv_gb"] = _du_gb(venv)
                row["cache_gb"] = _du_gb(cache) if cache is not None else None
                row["disk_gb"] = _du_gb(venv, cache) if cache is not None else row["venv_gb"]
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
                row["status"] = f"error: {e}"[:300]
            log(f"[install] {kind} {cache_state}: {row.get('total_s')} s, {row.get('disk_gb')} GB, {row['status']}")
            rows.append(row)
            shutil.rmtree(venv, ignore_errors=True)  # caches stay for the warm run

    figures = {}
    by = {(r["install"], r["cache"].split(" ")[0]): r for r in rows if "total_s" in r}
    for state in ("cold", "warm"):
        old, new = by.get(("before", state)), by.get(("now", state))
        if old and new:
            figures[f"time now / before ({state} cache)"] = round(new["total_s"] / old["total_s"], 3)
            figures[f"goal ≤ {GOAL_TIME_RATIO} met ({state})"] = new["total_s"] / old["total_s"] <= GOAL_TIME_RATIO
    if ("now", "cold") in by:
        figures[f"disk now, cold (goal ≤ {GOAL_DISK_GB} GB)"] = by[("now", "cold")]["disk_gb"]
    failed = [r for r in rows if str(r.get("status", "")).startswith("error")]
    return section("Pull request check: install + Quick Start until the comment is written (bench/install.py)", cols, rows,
                   status="error" if failed else "ok", figures=figures,
                   note="Fresh venv each row; cold = empty package cache, warm = the cache the cold row filled "
                        "(actions/cache on a runner). pr_check_s is `colab-notebook-action action` on a pull_request "
                        "event: build, validate, Quick Start on the demo catalogue, local publish, comment.md "
                        "(accuracy and n_train show both did the same work). Python and the Go build are the same "
                        "for both and not counted. Where pip keeps no cache (here: a registry mirror answering "
                        "no-store), its warm row installs from a folder of the downloaded wheels.")
