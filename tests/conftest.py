"""Shared pytest setup: the modules under test are the notebook's own `cells/src` files."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "cells" / "src"
sys.path.insert(0, str(SRC))
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

SHARED_DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture
def project(tmp_path):
    """A fresh PROJECT_ROOT tree and its Paths."""
    import project as project_mod

    return project_mod.make_tree(str(tmp_path / "product_categorization_project"))


# The shared project trees of the later steps' tests, built once per test run by the pipeline's own
# Steps 2-6 code (pipeline_fixtures.py); a test that changes files works on copy_project(...).

@pytest.fixture(scope="session")
def step5_root(tmp_path_factory) -> str:
    """PROJECT_ROOT after Steps 2-5 on the generated 300-row catalogue."""
    from pipeline_fixtures import build_root

    return build_root(tmp_path_factory.mktemp("step5"), "baselines", finetune=False)


@pytest.fixture(scope="session")
def trained_root(step5_root, tmp_path_factory) -> str:
    """step5_root plus Step 6: a tiny BERT fine-tuned for 2 epochs on title + description pairs."""
    import finetune
    from pipeline_fixtures import copy_project, smoke_cfg

    paths = copy_project(step5_root, tmp_path_factory.mktemp("trained"))
    finetune.run(smoke_cfg(paths), paths)
    return str(paths.root)


@pytest.fixture(scope="session")
def titles_root(tmp_path_factory) -> str:
    """Steps 2-3 and 6 on a catalogue with titles alone (no description column): its BERT reads titles only."""
    from pipeline_fixtures import build_root

    return build_root(tmp_path_factory.mktemp("titles"), "split", finetune=True, descriptions=False)


@pytest.fixture(scope="session")
def tool(tmp_path_factory) -> Path:
    """The Go tool (colab-notebook-action), built once per test run."""
    if shutil.which("go") is None:
        pytest.fail("go is not on PATH: these tests run the Go tool")
    exe = tmp_path_factory.mktemp("bin") / "colab-notebook-action"
    subprocess.run(["go", "build", "-o", str(exe), "."], cwd=REPO, check=True)
    return exe


@pytest.fixture(scope="session")
def built(tool, tmp_path_factory) -> Path:
    """The folder `build` writes from cells/: product_categorization_colab.ipynb and src/."""
    out = tmp_path_factory.mktemp("build")
    res = subprocess.run([str(tool), "build", "--cells", str(REPO / "cells"), "--out", str(out)], cwd=REPO,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return out


@pytest.fixture(scope="session")
def built_notebook(built):
    """The built notebook, read with nbformat (notebook_cells.py reads its cells)."""
    import nbformat

    return nbformat.read(built / "product_categorization_colab.ipynb", as_version=4)
