"""A pull request's preview notebook, as the Go tool publishes it, run by a real kernel.

The tool publishes the default branch's notebook and a pull request's preview to the local
stand-in for Drive (`publish --local-root`), the user's dataset sits in the top folder's
data/raw/, and the preview's Quick Start cells run from the published file as a reviewer would
run them: the preview must keep everything it writes in its own ci/pr-N/ folder, read the
parent's data/raw/ (it has none of its own), and leave the default branch's tree byte for byte.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from conftest import REPO

from test_notebook_run import _env, run_tool  # the Go tool is conftest.py's session fixture `tool`


def tree(root: Path, skip: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and skip not in p.parents}


def test_preview_runs_in_its_own_folder(tool, tmp_path):  # noqa: F811
    import demo_data

    build = tmp_path / "build"
    assert run_tool(tool, "build", "--cells", "cells", "--out", str(build)).returncode == 0
    drive_root = tmp_path / "_drive"
    publish = [str(tool), "publish", "--notebook", str(build / "product_categorization_colab.ipynb"),
               "--src", str(build / "src"), "--local-root", str(drive_root)]
    for extra in ([], ["--pr", "5"]):
        res = subprocess.run(publish + extra, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
    top = drive_root / "MyDrive" / "product_categorization_project"
    preview_dir = top / "ci" / "pr-5"
    demo_data.write_asaniczka(top / "data" / "raw", n_rows=1200, n_categories=6)
    (top / "NOTES.md").write_text("# the user's notes\n")
    before = tree(top, preview_dir)

    nb = nbformat.read(preview_dir / "product_categorization_colab.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert f'PROJECT_ROOT_OVERRIDE = "{preview_dir}"' in params.source
    assert f'PARENT_PROJECT_ROOT = "{top}"' in params.source
    # The reviewer runs the Quick Start section (RUN_MODE set as its comment says).
    params.source = params.source.replace('RUN_MODE = "full"', 'RUN_MODE = "quickstart"')
    nb.cells = [c for c in nb.cells if "quickstart" in c.metadata.get("tags", [])]
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute(env=_env())

    assert tree(top, preview_dir) == before, "the preview wrote into the default branch's tree"
    metrics = json.loads((preview_dir / "results" / "quickstart_metrics.json").read_text())
    assert metrics["n_rows"] == 1200, metrics  # the parent's data, not the demo catalogue
    assert not (preview_dir / "data" / "raw" / "amazon_products.csv").exists()
