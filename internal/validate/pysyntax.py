"""Syntax-check notebook cells and modules in one process (used by `validate`).

stdin:  JSON list of {"key": str, "source": str, "ipython": bool}
stdout: JSON list of {"key": str, "line": int, "col": int, "msg": str}, one per
        item that does not compile. Lines are 1-based within the item's source.

Cells ("ipython": true) may use IPython syntax: line magics (%x), shell escapes
(!cmd, var = !cmd) and cell magics (%%x). IPython's own input transformer
rewrites those into plain Python line for line, so error lines still match the
cell; cell magics whose body is not Python (%%bash, %%writefile, ...) are
skipped, and those whose body is Python (%%capture, %%time, ...) are checked.
"""
import ast
import json
import re
import sys
import warnings

try:
    from IPython.core.inputtransformer2 import TransformerManager

    _TRANSFORMER = TransformerManager()
except Exception:  # IPython missing: fall back to a line-for-line stand-in.
    _TRANSFORMER = None

# Cell magics whose body IPython runs as Python code.
PYTHON_BODY_MAGICS = {"capture", "time", "timeit", "prun", "debug"}

_IPY_LINE = re.compile(r"^(\s*)(?:[!%]|[\w.,\s\[\]()*]+=\s*[!%])")


def _fallback(src):
    """Replace IPython-only lines by `pass`, keeping indentation and line count."""
    out = []
    for line in src.split("\n"):
        m = _IPY_LINE.match(line)
        out.append(m.group(1) + "pass" if m else line)
    return "\n".join(out)


def _error(key, exc, offset):
    line = (exc.lineno or 1) + offset
    return {
        "key": key,
        "line": line,
        "col": exc.offset or 0,
        "msg": f"{type(exc).__name__}: {exc.msg}",
    }


def check_cell(key, src):
    offset = 0
    first, _, rest = src.partition("\n")
    stripped = first.lstrip()
    if stripped.startswith("%%"):
        name = stripped[2:].split(None, 1)[0] if stripped[2:].strip() else ""
        if name not in PYTHON_BODY_MAGICS:
            return None
        src, offset = rest, 1
    code = src
    if _TRANSFORMER is not None:
        try:
            # IPython 7.34 (Colab's) on Python >= 3.12 leaves `x = !cmd` untransformed (its
            # tokenizer-based rewrite no longer sees `!`): blank what it left, line for line.
            code = _fallback(_TRANSFORMER.transform_cell(src))
        except SyntaxError as exc:
            return _error(key, exc, offset)
        except Exception:
            code = _fallback(src)
    else:
        code = _fallback(src)
    try:
        tree = ast.parse(code, "<cell>")
        # compile() also catches what only the compiler sees ('return' outside
        # a function); top-level await is fine in IPython.
        compile(tree, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError as exc:
        return _error(key, exc, offset)
    return None


def check_module(key, src):
    try:
        tree = ast.parse(src, key)
        compile(tree, key, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _error(key, exc, 0)
    return None


def main():
    warnings.simplefilter("ignore")
    items = json.load(sys.stdin)
    out = []
    for item in items:
        check = check_cell if item.get("ipython") else check_module
        err = check(item["key"], item["source"])
        if err:
            out.append(err)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
