"""Syntax-check notebook cells and modules in one process, and list what they import
(used by `validate`).

stdin:  JSON list of {"key": str, "source": str, "ipython": bool}
stdout: JSON {"errors": [{"key", "line", "col", "msg"}], one per item that does not compile;
              "imports": [{"key", "module", "line", "guarded"}], every absolute import
                  (module is the top-level name; guarded: inside a try whose handlers catch
                  ImportError, ModuleNotFoundError, Exception or everything);
              "extra_packages": [{"key", "line", "names"}], every `EXTRA_PACKAGES = {...}`
                  dict literal (what the install cell adds);
              "stdlib": [names]: this Python's standard library modules}
        Lines are 1-based within the item's source.

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


_CATCHES_IMPORT_ERROR = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _catches_import_error(handler):
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(getattr(t, "id", getattr(t, "attr", "")) in _CATCHES_IMPORT_ERROR for t in types)


def imports_of(tree, offset=0):
    """(top-level module, line, guarded) for every absolute import in tree."""
    out = []

    def visit(node, guarded):
        if isinstance(node, ast.Try):
            inner = guarded or any(_catches_import_error(h) for h in node.handlers)
            for child in node.body:
                visit(child, inner)
            for child in node.handlers + node.orelse + node.finalbody:
                visit(child, guarded)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append((alias.name.split(".")[0], node.lineno + offset, guarded))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module.split(".")[0], node.lineno + offset, guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return out


def extra_packages_of(tree, offset=0):
    """(line, names) of every `EXTRA_PACKAGES = {"name": "version", ...}` in tree."""
    out = []
    for node in ast.walk(tree):
        if (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict)
                and any(getattr(t, "id", "") == "EXTRA_PACKAGES"
                        for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))):
            names = [k.value for k in node.value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            out.append((node.lineno + offset, names))
    return out


def check_cell(key, src):
    """(error or None, parsed tree or None, line offset) for one cell."""
    offset = 0
    first, _, rest = src.partition("\n")
    stripped = first.lstrip()
    if stripped.startswith("%%"):
        name = stripped[2:].split(None, 1)[0] if stripped[2:].strip() else ""
        if name not in PYTHON_BODY_MAGICS:
            return None, None, 0
        src, offset = rest, 1
    code = src
    if _TRANSFORMER is not None:
        try:
            # IPython 7.34 (Colab's) on Python >= 3.12 leaves `x = !cmd` untransformed (its
            # tokenizer-based rewrite no longer sees `!`): blank what it left, line for line.
            code = _fallback(_TRANSFORMER.transform_cell(src))
        except SyntaxError as exc:
            return _error(key, exc, offset), None, 0
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
        return _error(key, exc, offset), None, 0
    return None, tree, offset


def check_module(key, src):
    try:
        tree = ast.parse(src, key)
        compile(tree, key, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _error(key, exc, 0), None, 0
    return None, tree, 0


def main():
    warnings.simplefilter("ignore")
    items = json.load(sys.stdin)
    out = {"errors": [], "imports": [], "extra_packages": [], "stdlib": sorted(sys.stdlib_module_names)}
    for item in items:
        check = check_cell if item.get("ipython") else check_module
        err, tree, offset = check(item["key"], item["source"])
        if err:
            out["errors"].append(err)
        if tree is None:
            continue
        for module, line, guarded in imports_of(tree, offset):
            out["imports"].append({"key": item["key"], "module": module, "line": line, "guarded": guarded})
        for line, names in extra_packages_of(tree, offset):
            out["extra_packages"].append({"key": item["key"], "line": line, "names": names})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
