"""Shared pytest setup: the modules under test are the notebook's own `cells/src` files."""
from __future__ import annotations

import os
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
