"""The action's fast Quick Start check installs only env/quickstart.lock.txt (from
env/roots-quickstart.txt): the Quick Start must run in a virtualenv holding nothing else.

The venv is built with uv from its cache (the same wheels `make setup` installed), so this
takes seconds after the first run.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

LOCK = REPO / "env" / "quickstart.lock.txt"


def _uv() -> list[str]:
    uv = shutil.which("uv")
    return [uv] if uv else [sys.executable, "-m", "uv"]


@pytest.fixture(scope="module")
def quickstart_python(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("quickstart-env") / "venv"
    # The same interpreter as the test venv (3.13), so uv downloads no Python.
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([*_uv(), "venv", "--quiet", "--python", str(base), str(venv)], check=True)
    subprocess.run([*_uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-r", str(LOCK)],
                   check=True, timeout=900)
    return venv / "bin" / "python"


def test_the_lock_is_only_the_quick_start(quickstart_python):
    # What makes the full environment 5.8 GB must not creep into the PR check.
    code = "import importlib.util as u; print([m for m in ('torch', 'tensorflow', 'transformers', 'keras') if u.find_spec(m)])"
    out = subprocess.run([str(quickstart_python), "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    # A Kaggle handle as the data goes through kagglehub (cells/src/data.py).
    subprocess.run([str(quickstart_python), "-c", "import kagglehub, pyarrow.parquet, yaml, tqdm"], check=True)


def test_quick_start_runs_in_the_quickstart_env(quickstart_python, tool, tmp_path):
    root = tmp_path / "project"
    res = subprocess.run([str(tool), "run", "--mode", "quickstart", "--cells", "cells", "--out", str(tmp_path / "build"),
                          "--project-root", str(root), "--python", str(quickstart_python)],
                         cwd=REPO, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    metrics = json.loads((root / "results" / "quickstart_metrics.json").read_text())
    assert metrics["data_source"] == "demo" and metrics["accuracy"] > 0.5, metrics
