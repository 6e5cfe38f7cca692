"""Second judge for the Go schema checker: Jupyter's own nbformat validator.

Every notebook in testdata/broken must be rejected, and every one in
testdata/valid (plus the builder's golden file) accepted, by BOTH nbformat and
`go run . validate --notebook`. Then the real notebook is built from cells/
and must pass nbformat and survive a Jupyter re-save byte for byte.

Run: .venv/bin/python -m pytest tests/test_schema_judges.py
"""
from __future__ import annotations

import copy
import inspect
import json
import subprocess
import warnings
from pathlib import Path

import nbformat
import pytest
from nbformat.validator import get_validator

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "testdata"
BROKEN = sorted((TESTDATA / "broken").glob("*.ipynb"))
VALID = sorted((TESTDATA / "valid").glob("*.ipynb")) + [TESTDATA / "build" / "golden.ipynb"]


def nbformat_errors(nb: dict) -> list[str]:
    """What nbformat finds wrong with nb (empty list: valid nbformat 4.5)."""
    # The 4.5 schema, as nbformat ships it: nbformat.validate() would pick the
    # schema from the file's own nbformat_minor and crash on nbformat 5.
    validator = get_validator(version=4, version_minor=5, relax_add_props=False)
    errors = [e.message for e in validator.iter_errors(nb)]
    # nbformat < 5.11 repairs duplicate ids unless told not to; 5.11 (Colab's) dropped the switch.
    no_repair = ({"repair_duplicate_cell_ids": False}
                 if "repair_duplicate_cell_ids" in inspect.signature(nbformat.validate).parameters else {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # repair_duplicate_cell_ids is "deprecated"
        try:
            # Unique ids are only checked here, not by the schema.
            nbformat.validate(copy.deepcopy(nb), relax_add_props=False, **no_repair)
            if not no_repair and not nbformat.validator.isvalid(copy.deepcopy(nb)):
                # 5.11's validate() repairs duplicate ids with a warning; isvalid() still judges them.
                errors.append("nbformat.validator.isvalid: not a valid notebook (duplicate cell ids)")
        except nbformat.ValidationError as exc:
            errors.append(str(exc).splitlines()[0])
        except (KeyError, ImportError):
            # nbformat.validate cannot read it at all (no cells, nbformat 5);
            # the schema validator above has already said why.
            assert errors, "nbformat crashed on a notebook its schema accepts"
    return errors


def go_verdict(tool: Path, path: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [str(tool), "validate", "--notebook", str(path)],
        cwd=REPO, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_fixtures_exist():
    assert len(BROKEN) >= 10, "testdata/broken should hold the broken notebooks"
    assert len(VALID) >= 2


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_rejected_by_both(path: Path, tool: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nbformat_errors(nb), f"nbformat accepts {path.name}, so it is not a broken fixture"
    code, out = go_verdict(tool, path)
    assert code == 1, f"Go checker accepted {path.name}: {out}"
    assert "oneOf" not in out and "Must validate" not in out, out


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_accepted_by_both(path: Path, tool: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nbformat_errors(nb) == []
    code, out = go_verdict(tool, path)
    assert code == 0, out


def test_golden_is_what_jupyter_writes():
    text = (TESTDATA / "build" / "golden.ipynb").read_text(encoding="utf-8")
    assert nbformat.writes(nbformat.reads(text, as_version=4)) + "\n" == text


def test_real_notebook_builds_and_validates(built: Path, tool: Path):
    path = built / "product_categorization_colab.ipynb"
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    assert nbformat_errors(nb) == []
    assert nb["nbformat"] == 4 and nb["nbformat_minor"] == 5
    assert nb["metadata"]["colab"]["gpuType"] == "T4"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    # A Jupyter/Colab re-save must not produce a diff.
    assert nbformat.writes(nbformat.reads(text, as_version=4)) + "\n" == text
    # Every cells/src module is written to OUT/src byte for byte.
    for mod in (REPO / "cells" / "src").rglob("*.py"):
        rel = mod.relative_to(REPO / "cells" / "src")
        assert (built / "src" / rel).read_bytes() == mod.read_bytes(), rel
