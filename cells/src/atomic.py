"""Atomic artifact writes: a temp file beside the target, renamed over it only when the write
succeeds, so an interrupted Colab session never leaves a half-written file that a later step
trusts. Files get the modes open() would give them under the umask.

    from atomic import atomic_write_json, atomic_path
    atomic_write_json(paths.results / "metrics.json", {"accuracy": 0.7})
    with atomic_path(paths.models / "model.joblib") as tmp:
        joblib.dump(model, tmp)
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask sets a value for every thread)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def give_default_mode(path: os.PathLike | str) -> None:
    """The mode open()/mkdir() would have given `path` (and, for a folder, everything in it) under
    the umask: rw-r--r-- / rwxr-xr-x with Colab's 022.

    mkstemp and mkdtemp create 0600 / 0700 so that nobody else can read the temp file while it is
    written, and so does safetensors for model weights; once in place these are artifacts the user
    (and whoever they share the project with) must be able to read.
    """
    mask = _umask()
    top = Path(path)
    for p in [top, *(top.rglob("*") if top.is_dir() else [])]:
        if not p.is_symlink():
            os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)

@contextlib.contextmanager
def atomic_path(path: os.PathLike | str, suffix: str = "") -> Iterator[str]:
    """Yield a temp path beside `path`; rename it over `path` only if the block succeeds.

    `suffix` keeps an extension for writers that insist on one (np.save, savefig).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix, dir=target.parent)
    os.close(fd)
    give_default_mode(tmp)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: os.PathLike | str, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def atomic_write_bytes(path: os.PathLike | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def atomic_write_json(path: os.PathLike | str, obj: object) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_to_csv(df, path: os.PathLike | str, **kwargs) -> None:
    kwargs.setdefault("index", False)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kwargs)


def atomic_joblib_dump(obj: object, path: os.PathLike | str) -> None:
    import joblib

    with atomic_path(path) as tmp:
        joblib.dump(obj, tmp)


def atomic_savefig(fig, path: os.PathLike | str, **kwargs) -> None:
    kwargs.setdefault("dpi", 120)
    kwargs.setdefault("bbox_inches", "tight")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", **kwargs)
