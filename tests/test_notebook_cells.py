"""The built notebook's cells: each step's heading, the Quick Start tags, the parameters, Drive
and install cells, one %%writefile cell per module, code that parses as Python, and modules that
run nothing at import. The cells are read from the Go tool's build (notebook_cells.py), whose
parser also enforces the cell-file syntax (`build` fails on a bad header or markdown line)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from notebook_cells import by_file, python_source, tags, written_module

SRC = Path(__file__).resolve().parents[1] / "cells" / "src"
HEADINGS = {
    "step01_setup": "## Step 1 — Problem understanding & setup",
    "step02_eda": "## Step 2 — Data acquisition & quick EDA",
    "step03_preprocess": "## Step 3 — Data cleaning & preprocessing",
    "step04_features": "## Step 4 — Feature representation",
    "step05_baselines": "## Step 5 — Baseline model training & evaluation",
    "step06_finetune": "## Step 6 — Fine-tune BERT",
    "step07_optuna": "## Step 7 — Hyperparameter optimization",
    "step08_evaluate": "## Step 8 — Model evaluation on the test set",
    "step09_interpret": "## Step 9 — Interpretability & error analysis",
    "step10_deploy": "## Step 10 — Model saving & deployment artifacts",
    "step11_report": "## Step 11 — Documentation & final report",
    "step12_delivery": "## Step 12 — Reproducibility checklist & delivery",
    "final": "## Final — Delivery and paths",
}
QUICK_START = ["intro", "parameters", "setup_drive", "install", "project_code", "quickstart"]


def modules() -> list[str]:
    return sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_step_opens_with_its_heading_in_order(built_notebook):
    files = by_file(built_notebook)
    assert [f for f in files if f in HEADINGS] == list(HEADINGS)
    for name, heading in HEADINGS.items():
        first = files[name][0]
        assert first.cell_type == "markdown" and first.source.split("\n", 1)[0] == heading, name


def test_quick_start_is_the_tagged_opening_of_the_notebook(built_notebook):
    files = by_file(built_notebook)
    tagged = [name for name, cells in files.items() if any("quickstart" in tags(c) for c in cells)]
    assert tagged == QUICK_START == list(files)[: len(QUICK_START)]
    assert all("quickstart" in tags(c) for name in QUICK_START for c in files[name])


def test_parameters_drive_and_install_cells(built_notebook):
    files = by_file(built_notebook)
    params = [c for c in built_notebook.cells if "parameters" in tags(c)]
    assert len(params) == 1 and params[0] is files["parameters"][0]
    src = params[0].source
    for var in ("RUN_MODE", "DATA_PATH", "SAMPLE_SIZE", "PROJECT_ROOT_OVERRIDE", "FORCE", "MODEL_NAME",
                "TIME_BUDGET_MINUTES"):
        assert re.search(rf"^{var} = ", src, re.M), var
    assert re.search(r'^DRIVE_MOUNT = "/content/drive" ', src, re.M)
    setup = files["setup_drive"][1].source
    for line in ("from google.colab import drive", "drive.mount(DRIVE_MOUNT, force_remount=True)",
                 'PROJECT_ROOT = f"{DRIVE_MOUNT}/MyDrive/product_categorization_project"', "if IN_COLAB:"):
        assert line in setup
    # the install cell installs environment.EXTRA_PACKAGES, the one list (no copy of it in the cell),
    # after the cell before it wrote environment.py
    *_, writes, install = files["install"]
    assert written_module(writes) == "environment.py"
    assert "environment.ensure_packages(in_colab=IN_COLAB)" in install.source
    assert "EXTRA_PACKAGES" not in install.source


def test_every_module_is_written_by_exactly_one_cell(built_notebook):
    """The project-code section writes every module but environment.py, which the install cell
    writes because it runs it; no other cell writes one."""
    written = {}
    for name, cells in by_file(built_notebook).items():
        for c in cells:
            if written_module(c):
                assert written_module(c) not in written, f"{written_module(c)} written twice"
                written[written_module(c)] = name
    assert sorted(written) == modules()
    assert {m for m, name in written.items() if name != "project_code"} == {"environment.py"}
    assert written["environment.py"] == "install"


def test_code_cells_are_python_apart_from_magics(built_notebook):
    for cell in built_notebook.cells:
        if cell.cell_type == "code" and not written_module(cell):
            ast.parse(python_source(cell), filename=cell.id)


def test_modules_have_a_docstring_and_run_nothing_at_import():
    for rel in modules():
        tree = ast.parse((SRC / rel).read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), rel
        for node in tree.body:
            if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
                raise AssertionError(f"{rel}: top-level call at line {node.lineno}")
