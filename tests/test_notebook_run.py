"""The real notebook, built by the Go tool and executed by a real Jupyter kernel.

These are the end-to-end proofs: the `%%writefile` cells write exactly the tested modules,
the Quick Start works on the built-in demo data and on the user's Kaggle format (zipped),
and RUN_MODE=smoke runs all 12 steps and leaves every artifact the spec names.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from conftest import REPO, SHARED_DATASETS, SRC

ASANICZKA = SHARED_DATASETS / "asaniczka_amazon2023_random10k"


def _env() -> dict:
    env = dict(os.environ)
    env.update(MPLBACKEND="Agg", KERAS_BACKEND="torch", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


def run_tool(tool: Path, *args: str, timeout: int = 1500) -> subprocess.CompletedProcess:
    cmd = [str(tool), *args, "--python", sys.executable] if args[0] in ("run", "validate") else [str(tool), *args]
    return subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout)


def module_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def test_build_copies_modules_byte_for_byte(built, built_notebook):
    from notebook_cells import written_module

    nbformat.validate(built_notebook)
    written = {written_module(c): c.source.split("\n", 1)[1] for c in built_notebook.cells if written_module(c)}
    for path in module_files():
        rel = path.relative_to(SRC).as_posix()
        assert (built / "src" / rel).read_bytes() == path.read_bytes(), rel
        assert rel in written, f"no %%writefile cell for {rel}"
        # nbformat joins the list of lines back into the exact file text
        assert written[rel] + ("" if written[rel].endswith("\n") else "\n") == path.read_text(encoding="utf-8"), rel


def test_validate_accepts_the_real_cells(tool):
    res = run_tool(tool, "validate", "--cells", "cells")
    assert res.returncode == 0, res.stdout + res.stderr


def test_validate_reports_broken_cell_with_file_and_line(tool, tmp_path):
    import shutil

    cells = tmp_path / "cells"
    shutil.copytree(REPO / "cells", cells, ignore=shutil.ignore_patterns("__pycache__"))
    target = sorted(cells.glob("09_*.py"))[0]
    lines = target.read_text(encoding="utf-8").splitlines()
    # break the last code line of the file
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].strip() and not lines[i].startswith("#"):
            lines[i] = lines[i] + " ((("
            broken_line = i + 1
            break
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run_tool(tool, "validate", "--cells", str(cells))
    assert res.returncode != 0
    assert f"{target.name}:{broken_line}:" in res.stderr, res.stderr


def _quickstart(tool, root: Path, out: Path, data: str | None = None) -> dict:
    args = ["run", "--mode", "quickstart", "--cells", "cells", "--out", str(out), "--project-root", str(root)]
    if data:
        args += ["--data", data]
    res = run_tool(tool, *args, timeout=900)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return json.loads((root / "results" / "quickstart_metrics.json").read_text())


def test_quickstart_on_demo_data_writes_modules_and_metrics(tool, tmp_path):
    root = tmp_path / "project"
    metrics = _quickstart(tool, root, tmp_path / "build")
    for key in ("accuracy", "macro_f1", "n_train", "n_test", "n_classes", "train_seconds", "device"):
        assert key in metrics, key
    assert 0.5 < metrics["accuracy"] <= 1.0
    # the %%writefile cells wrote exactly the modules the tests import
    for path in module_files():
        rel = path.relative_to(SRC)
        assert (root / "src" / rel).read_bytes() == path.read_bytes(), rel
    for rel in ("data/raw", "data/processed/embeddings", "models", "results/plots",
                "results/interpretability", "experiments/logs/bert", "src/api", "notebooks", "REPORT"):
        assert (root / rel).is_dir(), rel
    assert (root / "notebooks" / "executed_quickstart.ipynb").is_file()

    # a second run keeps one summary entry per step and loses nothing
    before = set(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    _quickstart(tool, root, tmp_path / "build")
    after = set(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert before <= after
    summary = (root / "summary.txt").read_text()
    headers = [line for line in summary.splitlines() if line.startswith("## [")]
    assert len(headers) == len(set(headers)), headers


@pytest.mark.skipif(not ASANICZKA.is_dir(), reason="shared datasets not present")
def test_quickstart_on_asaniczka_zip_as_uploaded(tool, tmp_path):
    archive = tmp_path / "amazon-products-dataset-2023.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(ASANICZKA / "amazon_products_sample.csv", "amazon_products.csv")
        zf.write(ASANICZKA / "amazon_categories.csv", "amazon_categories.csv")
    root = tmp_path / "project"
    metrics = _quickstart(tool, root, tmp_path / "build", data=str(archive))
    print("asaniczka quickstart:", metrics)
    assert metrics["n_classes"] > 150
    assert metrics["accuracy"] > 0.5


def test_quickstart_missing_data_file_is_one_clear_error(tool, tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    keep = root / "keep.txt"
    keep.write_text("precious")
    res = run_tool(tool, "run", "--mode", "quickstart", "--cells", "cells", "--out", str(tmp_path / "b"),
                   "--project-root", str(root), "--data", str(tmp_path / "nope.csv"))
    assert res.returncode != 0
    assert "nope.csv" in res.stderr + res.stdout
    assert keep.read_text() == "precious"


SPEC_ARTIFACTS = [
    "README.md", "NOTES.md", "requirements.txt", "environment.yml", "run_in_colab.sh", "summary.txt",
    "data/processed/train.csv", "data/processed/val.csv", "data/processed/test.csv",
    "models/tfidf_vectorizer.joblib", "models/baseline.joblib", "models/lstm.h5",
    "models/bert_final/config.json", "results/metrics_baselines.csv", "results/metrics.csv",
    "experiments/optuna_results.json", "src/preprocess.py", "src/feature_engineering.py",
    "src/inference.py", "src/api/app.py", "REPORT/final_report.md", "REPORT/final_report.pdf",
    "notebooks/summary.ipynb", "run_all_colab.sh", "config_colab.yaml",
    "product_categorization_colab.ipynb",
]


@pytest.fixture(scope="session")
def smoke_root(tool, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("smoke")
    root = tmp / "project"
    res = run_tool(tool, "run", "--mode", "smoke", "--cells", "cells", "--out", str(tmp / "build"),
                   "--project-root", str(root), timeout=1500)
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-6000:]
    return root


@pytest.mark.parametrize("rel", SPEC_ARTIFACTS)
def test_smoke_run_leaves_spec_artifact(smoke_root, rel):
    path = smoke_root / rel
    assert path.is_file() and path.stat().st_size > 0, rel


def test_smoke_run_artifacts_are_sane(smoke_root):
    import joblib
    from PIL import Image
    from pypdf import PdfReader

    plots = list((smoke_root / "results" / "plots").glob("*.png"))
    assert len(plots) >= 4
    for png in plots + list(smoke_root.rglob("results/interpretability/*.png")):
        Image.open(png).verify()
    assert list((smoke_root / "data/processed/embeddings").glob("*.npy"))
    interp = smoke_root / "results" / "interpretability"
    assert list(interp.glob("lime_*.html")) and list(interp.glob("shap_*.png")), "LIME and SHAP outputs"
    metrics = pd.read_csv(smoke_root / "results" / "metrics.csv")
    assert {"model", "accuracy", "macro_f1", "top2_accuracy", "top3_accuracy"} <= set(metrics.columns)
    assert len(metrics) >= 2
    base = pd.read_csv(smoke_root / "results" / "metrics_baselines.csv")
    assert len(base) >= 4
    train = pd.read_csv(smoke_root / "data/processed/train.csv")
    pipe = joblib.load(smoke_root / "models" / "baseline.joblib")
    assert set(pipe.classes_) == set(train["category"].astype(str))
    text = "".join(page.extract_text() or "" for page in PdfReader(smoke_root / "REPORT/final_report.pdf").pages)
    assert "accuracy" in text.lower()
    summary = (smoke_root / "summary.txt").read_text()
    for step in ("Step 1 — setup", "Step 5 — baselines", "Step 8 — Evaluation", "Step 12 — Final summary",
                 "Final — Delivery and paths"):
        assert summary.count(f"## [{step}]") == 1, step
    nb = nbformat.read(smoke_root / "notebooks" / "summary.ipynb", as_version=4)
    nbformat.validate(nb)
