"""The Part 2 cell files: headings, design.md's cell syntax, and one src cell per owned module."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

CELLS = Path(__file__).resolve().parents[1] / "cells"
OWNED = {
    "12_step06_finetune.py": "## Step 6 — Fine-tune BERT",
    "13_step07_optuna.py": "## Step 7 — Hyperparameter optimization",
    "14_step08_evaluate.py": "## Step 8 — Model evaluation on the test set",
    "15_step09_interpret.py": "## Step 9 — Interpretability & error analysis",
    "16_step10_deploy.py": "## Step 10 — Model saving & deployment artifacts",
    "17_step11_report.py": "## Step 11 — Documentation & final report",
    "18_step12_delivery.py": "## Step 12 — Reproducibility checklist & delivery",
    "19_final.py": "## Final — Delivery and paths",
}
MODULES = {"device.py", "sampling.py", "splits.py", "fallback.py", "tiny_model.py", "embeddings.py", "finetune.py",
           "tuning.py", "inference.py", "evaluate.py", "interpret.py", "api/app.py", "report.py", "delivery.py"}
HEADER = re.compile(r"^# %%(?: \[markdown\])?(?P<meta>(?: [a-z_]+=\S+)*)\s*$")


def cells(path: Path) -> list[tuple[str, dict, list[str]]]:
    out, lines = [], path.read_text(encoding="utf-8").splitlines()
    assert lines and lines[0].startswith("# %%"), f"{path.name}: text before the first cell"
    for line in lines:
        if line.startswith("# %%"):
            m = HEADER.match(line)
            assert m, f"{path.name}: bad cell header {line!r}"
            meta = dict(kv.split("=", 1) for kv in m.group("meta").split())
            out.append(("markdown" if "[markdown]" in line else "code", {k: json.loads(v) for k, v in meta.items()},
                        []))
        else:
            out[-1][2].append(line)
    return out


def test_headings_and_markdown_syntax():
    for name, heading in OWNED.items():
        parsed = cells(CELLS / name)
        kind, _, body = parsed[0]
        assert kind == "markdown" and body[0] == "# " + heading, name
        for kind, _, body in parsed:
            if kind == "markdown":
                assert all(line == "#" or line.startswith("# ") or not line for line in body), name


def test_every_owned_module_has_exactly_one_src_cell_with_empty_body():
    # The project-code section (04_project_code.py) writes every module; wherever it lives, one cell each.
    seen = []
    for path in sorted(CELLS.glob("[0-9][0-9]_*.py")):
        for kind, meta, body in cells(path):
            if "src" in meta and meta["src"] in MODULES:
                assert not any(line.strip() for line in body), f"{path.name}: src cell {meta['src']} has a body"
                seen.append(meta["src"])
    assert sorted(seen) == sorted(MODULES)
    assert all((CELLS / "src" / m).is_file() for m in MODULES)


def test_code_cells_are_python_apart_from_magics():
    for name in OWNED:
        for kind, meta, body in cells(CELLS / name):
            if kind == "code" and "src" not in meta:
                src = "\n".join(line[: len(line) - len(line.lstrip())] + "pass" if line.strip().startswith("%")
                                else line for line in body)
                ast.parse(src, filename=name)


def test_modules_run_nothing_at_import():
    for rel in MODULES:
        tree = ast.parse((CELLS / "src" / rel).read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), rel
        for node in tree.body:
            if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
                raise AssertionError(f"{rel}: top-level call at line {node.lineno}")
