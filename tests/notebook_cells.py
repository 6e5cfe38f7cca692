"""The notebook's cells as the Go tool builds them from cells/ (docs/design.md's cell syntax).

Go's cellsrc is the one parser of the cell files: `colab-notebook-action build` (the session
fixtures `tool` and `built_notebook` in conftest.py) turns them into the .ipynb, and the Python
tests read that notebook through these helpers instead of parsing cells/ again. A built cell's id
is `<name>-<index>`, from its file cells/NN_<name>.py.
"""
from __future__ import annotations

from collections import OrderedDict

WRITEFILE = '%%writefile "{SRC_DIR}/'


def file_name(cell) -> str:
    """The cell file a built cell comes from: "step01_setup" for cells/07_step01_setup.py."""
    return cell.id.rsplit("-", 1)[0]


def by_file(nb) -> "OrderedDict[str, list]":
    """The built cells grouped by cell file, in notebook order."""
    out: OrderedDict[str, list] = OrderedDict()
    for cell in nb.cells:
        out.setdefault(file_name(cell), []).append(cell)
    return out


def tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def written_module(cell):
    """The cells/src-relative path a src= cell writes (its %%writefile line), else None."""
    if cell.cell_type != "code" or not cell.source.startswith(WRITEFILE):
        return None
    return cell.source.split("\n", 1)[0][len(WRITEFILE):].rstrip('"')


def python_source(cell) -> str:
    """A code cell's source with each IPython magic line (% or !) kept as an indented `pass`."""
    return "\n".join(ln[: len(ln) - len(ln.lstrip())] + "pass" if ln.strip().startswith(("%", "!")) else ln
                     for ln in cell.source.split("\n"))
