"""The notebook as a Colab user runs it: Colab's own package versions, its Colab code path.

The whole built notebook is executed in smoke mode through the Go tool (`run --python
.venv-colab/bin/python`, the code path the action takes) in `.venv-colab`: Python 3.13 with only
the distributions Colab's pip-freeze lists, at Colab's versions (env/colab.lock.txt), TensorFlow
included. `google.colab` is the stand-in in tests/colab_standin, put on that environment's
sys.path by a `.pth` file, so the notebook takes its IN_COLAB branch: it mounts "Drive" (a
folder of this test), the user uploads the Kaggle zip through Option A, and Step 12 saves the
notebook it gets from the frontend. Nothing sets KERAS_BACKEND or the Hugging Face offline
switches (Colab doesn't), and the install cell runs for real: pip installs the extras from PyPI.
Before and after the run the environment is synced back to the lock, so every run starts from
Colab's state.

Below the run: the stand-in itself, the one install list, requirements.txt's coverage and the
modes artifact files get.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from conftest import REPO, SRC
from notebook_cells import written_module

COLAB_PY = REPO / ".venv-colab" / "bin" / "python"
STANDIN = REPO / "tests" / "colab_standin"
STATE_FILE = "google_colab_standin.json"  # google/colab/_frontend.py reads it
PTH_FILE = "google_colab_standin.pth"
# Colab sets none of these; the Colab-faithful run must do without them.
NOT_IN_COLAB = ("KERAS_BACKEND", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "TF_CPP_MIN_LOG_LEVEL")


def uv() -> list[str]:
    exe = shutil.which("uv")
    return [exe] if exe else [sys.executable, "-m", "uv"]


def sync_colab_env() -> None:
    """.venv-colab back to exactly env/colab.lock.txt (drops what an install cell added)."""
    subprocess.run([*uv(), "pip", "sync", "--quiet", "--python", str(COLAB_PY), str(REPO / "env" / "colab.lock.txt")],
                   check=True, cwd=REPO, timeout=900)


def colab_site_packages() -> Path:
    out = subprocess.run([str(COLAB_PY), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return Path(out)


def write_kaggle_zip(tmp: Path) -> Path:
    """What a user downloads from Kaggle: amazon_products.csv + amazon_categories.csv, zipped."""
    import demo_data

    raw = tmp / "kaggle-download"
    demo_data.write_asaniczka(raw, n_rows=3000, n_categories=20)
    archive = tmp / "amazon-products-dataset-2023-1-4m-products.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("amazon_products.csv", "amazon_categories.csv"):
            zf.write(raw / name, name)
    return archive


class ColabRun:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.mount = tmp / "content" / "drive"
        self.users_drive = tmp / "users-drive"
        self.root = self.mount / "MyDrive" / "product_categorization_project"
        self.build = tmp / "build"
        self.log = tmp / "frontend.jsonl"
        self.returncode = None
        self.stdout = self.stderr = ""
        self.seconds = 0.0

    def requests(self) -> list[dict]:
        if not self.log.is_file():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def output_lines(self) -> list[str]:
        """Every line the cells printed (the tool prefixes them with '    | ')."""
        return [line[6:] for line in self.stdout.splitlines() if line.startswith("    | ")]


@pytest.fixture(scope="module")
def colab_run(tmp_path_factory, tool) -> ColabRun:
    if not COLAB_PY.is_file():
        pytest.fail(f"{COLAB_PY} is missing: `make setup` builds the Colab-faithful environment")
    tmp = tmp_path_factory.mktemp("colab")
    run = ColabRun(tmp)
    run.mount.parent.mkdir(parents=True)  # /content exists in Colab; drive.mount refuses a missing parent
    archive = write_kaggle_zip(tmp)
    site = colab_site_packages()
    # One run at a time: a second pytest using this environment would sync it under this one.
    lock = open(REPO / ".venv-colab" / ".colab-run.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    sync_colab_env()
    missing = subprocess.run([str(COLAB_PY), "-c", "import lime"], capture_output=True, text=True)
    assert missing.returncode != 0, "the Colab environment already has lime: the install cell would not run"
    state = {"drive": str(run.users_drive), "uploads": [[str(archive)]], "secrets": {},
             "notebook": str(run.build / "executed_smoke.ipynb"), "log": str(run.log)}
    (site / STATE_FILE).write_text(json.dumps(state, indent=1))
    (site / PTH_FILE).write_text(str(STANDIN) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in NOT_IN_COLAB}
    cmd = [str(tool), "run", "--mode", "smoke", "--cells", "cells", "--out", str(run.build),
           "--project-root", str(run.root), "--python", str(COLAB_PY), "--param", f"DRIVE_MOUNT={run.mount}"]
    start = time.monotonic()
    try:
        res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=2400)
        run.returncode, run.stdout, run.stderr = res.returncode, res.stdout, res.stderr
    finally:
        run.seconds = time.monotonic() - start
        (site / PTH_FILE).unlink(missing_ok=True)
        (site / STATE_FILE).unlink(missing_ok=True)
        sync_colab_env()
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    (tmp / "run-output.txt").write_text(run.stdout + "\n--- stderr ---\n" + run.stderr)
    print(f"\nColab-faithful smoke run: {run.seconds:.0f} s wall (output in {tmp / 'run-output.txt'})")
    return run


def test_colab_run_passes_through_its_colab_code_path(colab_run):
    run = colab_run
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-4000:]
    out = run.output_lines()
    assert f"Mounted at {run.mount}" in out
    assert f"IN_COLAB=True  PROJECT_ROOT={run.root}" in out
    import environment

    wanted = " ".join(f"{n}=={v}" for n, v in environment.EXTRA_PACKAGES.items())
    assert f"Installing only what this runtime lacks: {wanted}" in out, "the install cell did not install"
    asked = [r["request"] for r in run.requests()]
    assert asked[:2] == ["request_auth", "mount"] and "upload" in asked and "get_ipynb" in asked, asked
    # the kernel started as Colab's does: no Keras backend chosen, Hugging Face online
    assert run.requests()[1]["env"] == {"KERAS_BACKEND": None, "HF_HUB_OFFLINE": None, "TRANSFORMERS_OFFLINE": None}
    assert any(line.startswith("Saving amazon-products-dataset-2023-1-4m-products.zip to ") for line in out)
    assert (run.users_drive / "product_categorization_project" / "data" / "raw" / "amazon_products.csv").is_file()
    assert re.search(r"run smoke OK: (\d+)/\1 code cells", run.stdout), run.stdout[-2000:]


@pytest.mark.parametrize("rel", [
    "README.md", "NOTES.md", "requirements.txt", "environment.yml", "run_in_colab.sh", "summary.txt",
    "data/processed/train.csv", "data/processed/val.csv", "data/processed/test.csv",
    "results/plots/top20_categories.png", "results/plots/class_imbalance.png",
    "models/tfidf_vectorizer.joblib", "models/baseline.joblib", "models/lstm.h5", "models/bert_final/config.json",
    "results/metrics_baselines.csv", "results/metrics.csv", "results/interpretability/shap_hard_examples.html",
    "experiments/optuna_results.json", "src/preprocess.py", "src/inference.py", "src/api/app.py",
    "REPORT/final_report.md", "REPORT/final_report.pdf", "notebooks/summary.ipynb", "run_all_colab.sh",
    "config_colab.yaml", "product_categorization_colab.ipynb",
])
def test_colab_run_leaves_spec_artifact(colab_run, rel):
    path = colab_run.root / rel
    assert path.is_file() and path.stat().st_size > 0, rel


def test_colab_run_artifacts_are_sane(colab_run):
    import joblib
    from PIL import Image
    from pypdf import PdfReader

    from config import Config

    root = colab_run.root
    assert colab_run.returncode == 0
    for png in list((root / "results/plots").glob("*.png")) + list((root / "results/interpretability").glob("*.png")):
        Image.open(png).verify()
    interp = root / "results/interpretability"
    assert list(interp.glob("lime_*.html")) and list(interp.glob("shap_*.png"))
    metrics = pd.read_csv(root / "results/metrics.csv")
    assert {"model", "accuracy", "macro_f1", "top2_accuracy", "top3_accuracy"} <= set(metrics.columns)
    assert metrics["accuracy"].between(0, 1).all() and len(metrics) >= 2
    train = pd.read_csv(root / "data/processed/train.csv")
    assert set(joblib.load(root / "models/baseline.joblib").classes_) == set(train["category"].astype(str))
    bert = json.loads((root / "models/bert_final/config.json").read_text())
    assert set(bert["id2label"].values()) == set(train["category"].astype(str))
    pdf = PdfReader(root / "REPORT/final_report.pdf")
    assert "accuracy" in "".join(page.extract_text() or "" for page in pdf.pages).lower()
    assert "fpdf2" in (root / "NOTES.md").read_text() or "xelatex" in (root / "NOTES.md").read_text()
    nbformat.validate(nbformat.read(root / "notebooks/summary.ipynb", as_version=4))
    assert Config.load_yaml(str(root / "config_colab.yaml")).run_mode == "smoke"
    for sh in ("run_all_colab.sh", "run_in_colab.sh"):
        assert os.access(root / sh, os.X_OK), sh
    summary = (root / "summary.txt").read_text()
    assert "## [Final — Delivery and paths]" in summary and str(root / "product_categorization_colab.ipynb") in summary
    # requirements.txt: the versions this runtime really had, the install cell's extras included
    import environment

    reqs = dict(line.split("==") for line in (root / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert {n: reqs.get(n) for n in environment.EXTRA_PACKAGES} == environment.EXTRA_PACKAGES
    lock = dict(line.split("==") for line in (REPO / "env/colab.lock.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert reqs["numpy"] == lock["numpy"] and reqs["torch"] == lock["torch"]


def test_colab_run_saves_the_running_notebook(colab_run):
    """Step 12 writes what the frontend's get_ipynb answered: the notebook with its outputs so far."""
    saved = nbformat.read(colab_run.root / "product_categorization_colab.ipynb", as_version=4)
    nbformat.validate(saved)
    texts = ["".join(o.get("text", "")) for c in saved.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("IN_COLAB=True" in t for t in texts)
    assert any(c.cell_type == "markdown" and "Step 12" in c.source for c in saved.cells)


def test_colab_run_output_is_clean(colab_run):
    """No Hub lookups for the local tiny model, no TensorFlow start-up lines, no warning printed twice."""
    out = colab_run.output_lines()
    text = "\n".join(out)
    assert "huggingface.co" not in text and "Retrying in" not in text, "a local model name reached the Hub"
    for tf_line in ("oneDNN custom operations", "cpu_feature_guard", "cudart_stub", "TF-TRT"):
        assert tf_line not in text, tf_line
    assert "IProgress not found" not in text, "Colab has ipywidgets; the environment lacks them"
    warnings = Counter(line.strip() for line in out if re.search(r"(?i)warn", line))
    repeated = {line: n for line, n in warnings.items() if n > 1}
    assert not repeated, repeated


def test_colab_run_artifacts_are_readable_by_the_user(colab_run):
    """Modes follow the umask like any file the user writes (mkstemp alone gives 0600)."""
    mask = os.umask(0o022)
    os.umask(mask)
    want_file, want_dir = 0o444 & ~mask, 0o555 & ~mask
    bad = []
    for p in [colab_run.root, *colab_run.root.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        want = want_dir if p.is_dir() else want_file
        if mode & want != want:
            bad.append(f"{p.relative_to(colab_run.root)} {oct(mode)}")
    assert not bad, bad[:20]


# --- the stand-in itself, against colabtools' behaviour -------------------------------------

STANDIN_CHECK = r'''
import json, os, sys
from pathlib import Path
tmp = Path(sys.argv[1])
import google.colab
from google.colab import drive, files, userdata, _message
mount = tmp / "content" / "drive"
mount.parent.mkdir(parents=True)
drive.mount(str(mount), force_remount=True)
assert (mount / "MyDrive").is_dir()
(mount / "MyDrive" / "kept.txt").write_text("on Drive")
drive.mount(str(mount))  # a remount shows the same Drive again
assert (mount / "MyDrive" / "kept.txt").read_text() == "on Drive"
(mount / "stray.txt").write_text("x")
try:
    drive.mount(str(mount), force_remount=True)
    raise SystemExit("a mountpoint holding files was accepted")
except ValueError as exc:
    assert "must not already contain files" in str(exc)
os.chdir(tmp)
first = files.upload()
assert first == {"a.csv": b"x,y\n1,2\n"} and Path("a.csv").read_bytes() == b"x,y\n1,2\n", first
second = files.upload()
assert list(second) == ["a (1).csv"], second
assert files.upload() == {}
try:
    userdata.get("KAGGLE_API_TOKEN")
    raise SystemExit("a missing secret was returned")
except userdata.SecretNotFoundError:
    pass
try:
    userdata.get("NO_ACCESS")
    raise SystemExit("a secret without notebook access was returned")
except userdata.NotebookAccessError:
    pass
assert userdata.get("GRANTED") == "s3cret"
assert _message.blocking_request("get_ipynb", timeout_sec=60) == {"ipynb": {"cells": [], "nbformat": 4}}
assert _message.blocking_request("something_else") is None
print("ok")
'''


def test_standin_behaves_like_colabtools(tmp_path):
    upload = tmp_path / "pick" / "a.csv"
    upload.parent.mkdir()
    upload.write_bytes(b"x,y\n1,2\n")
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"cells": [], "nbformat": 4}))
    state = tmp_path / "state.json"
    state.write_text(json.dumps({
        "drive": str(tmp_path / "users-drive"), "uploads": [[str(upload)], [str(upload)]], "notebook": str(nb),
        "secrets": {"NO_ACCESS": {"value": "x", "access": False}, "GRANTED": {"value": "s3cret"}},
        "log": str(tmp_path / "log.jsonl")}))
    work = tmp_path / "work"
    work.mkdir()
    # A separate process: importing google.colab here would make every later test "in Colab".
    env = dict(os.environ, PYTHONPATH=str(STANDIN), GOOGLE_COLAB_STANDIN_STATE=str(state))
    res = subprocess.run([sys.executable, "-c", STANDIN_CHECK, str(work)], env=env, capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip().endswith("ok"), res.stdout + res.stderr
    assert "Mounted at " in res.stdout and "Saving a.csv to a (1).csv" in res.stdout
    kinds = [json.loads(line)["request"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert kinds.count("mount") == 2 and kinds.count("upload") == 3 and "get_ipynb" in kinds


# --- one install list, and requirements.txt covering every import ---------------------------

def pinned(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line.strip())
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_install_cell_packages_are_the_tested_pins():
    """environment.EXTRA_PACKAGES (what Colab gets) == what env/roots-test.txt pins (what CI tests)."""
    import environment

    roots = pinned(REPO / "env" / "roots-test.txt")
    assert {n: roots.get(n.lower()) for n in environment.EXTRA_PACKAGES} == environment.EXTRA_PACKAGES
    lock = pinned(REPO / "env" / "test.lock.txt")
    assert {n: lock.get(n.lower()) for n in environment.EXTRA_PACKAGES} == environment.EXTRA_PACKAGES


def _third_party_imports(nb) -> set[str]:
    """Top-level modules the built notebook's cells and modules import, from validate's own parser."""
    items = []
    for path in sorted(SRC.rglob("*.py")):
        if "__pycache__" not in path.parts:
            items.append({"key": str(path), "source": path.read_text(encoding="utf-8"), "ipython": False})
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and written_module(cell) is None:  # src= cells: the modules above
            items.append({"key": cell.id or f"cell {i}", "source": cell.source, "ipython": True})
    res = subprocess.run([sys.executable, "-I", str(REPO / "internal" / "validate" / "pysyntax.py")],
                         input=json.dumps(items), capture_output=True, text=True, check=True)
    facts = json.loads(res.stdout)
    assert not facts["errors"], facts["errors"]
    local = {p.stem for p in SRC.rglob("*.py")} | {p.name for p in SRC.iterdir() if p.is_dir()}
    return {i["module"] for i in facts["imports"]} - set(facts["stdlib"]) - local


def test_requirements_record_every_distribution_the_notebook_imports(built_notebook):
    import environment

    dists: dict[str, set[str]] = {}
    for line in (REPO / "schema" / "colab-packages.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            imp, dist = line.split("\t")[:2]
            dists.setdefault(imp, set()).add(dist.lower())
    recorded = {n.lower() for n in environment.RECORDED}
    unrecorded = {m: sorted(dists.get(m, {m})) for m in _third_party_imports(built_notebook) - {"google"}
                  if not dists.get(m, {m.lower()}) & recorded}
    assert not unrecorded, f"imported but not written to requirements.txt (environment.PREINSTALLED): {unrecorded}"


# --- modes of what the notebook writes ------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_atomic_writes_and_temp_dirs_follow_the_umask(tmp_path, umask):
    import atomic

    old = os.umask(umask)
    try:
        atomic.atomic_write_text(tmp_path / "a.txt", "x")
        with atomic.atomic_path(tmp_path / "m.joblib") as tmp:
            Path(tmp).write_bytes(b"1")
        d = tmp_path / "made"
        d.mkdir(mode=0o700)
        atomic.give_default_mode(d)
    finally:
        os.umask(old)
    for f in ("a.txt", "m.joblib"):
        assert stat.S_IMODE((tmp_path / f).stat().st_mode) == 0o666 & ~umask, f
    assert stat.S_IMODE(d.stat().st_mode) == 0o777 & ~umask
