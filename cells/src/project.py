"""The PROJECT_ROOT tree, atomic artifact writes, and the run's human logs.

In Colab PROJECT_ROOT is on the mounted Drive; elsewhere it is a local folder with the
exact same tree. Every artifact goes through `atomic_*` (temp file + rename) so an
interrupted session never leaves a half-written file that a later step trusts.
summary.txt and NOTES.md are keyed by step/topic: re-running a step replaces its
entry instead of appending a duplicate.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

TREE = (
    "data/raw",
    "data/processed",
    "data/processed/embeddings",
    "models",
    "results/plots",
    "results/interpretability",
    "experiments/logs/bert",
    "src",
    "src/api",
    "notebooks",
    "REPORT",
)


def in_colab() -> bool:
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def raw(self) -> Path: return self.root / "data/raw"
    @property
    def processed(self) -> Path: return self.root / "data/processed"
    @property
    def embeddings(self) -> Path: return self.root / "data/processed/embeddings"
    @property
    def models(self) -> Path: return self.root / "models"
    @property
    def results(self) -> Path: return self.root / "results"
    @property
    def plots(self) -> Path: return self.root / "results/plots"
    @property
    def interpretability(self) -> Path: return self.root / "results/interpretability"
    @property
    def experiments(self) -> Path: return self.root / "experiments"
    @property
    def bert_logs(self) -> Path: return self.root / "experiments/logs/bert"
    @property
    def src(self) -> Path: return self.root / "src"
    @property
    def notebooks(self) -> Path: return self.root / "notebooks"
    @property
    def report(self) -> Path: return self.root / "REPORT"
    @property
    def summary(self) -> Path: return self.root / "summary.txt"
    @property
    def notes(self) -> Path: return self.root / "NOTES.md"
    @property
    def readme(self) -> Path: return self.root / "README.md"
    @property
    def bert_final(self) -> Path: return self.root / "models/bert_final"


def make_tree(root: str) -> Paths:
    """Create the full folder tree (idempotent; never deletes anything)."""
    paths = Paths(Path(root))
    for rel in TREE:
        (paths.root / rel).mkdir(parents=True, exist_ok=True)
    return paths


# --- atomic writes ------------------------------------------------------------------

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


# --- keyed human logs ---------------------------------------------------------------

_SECTION = re.compile(r"^## \[(?P<key>[^\]]+)\]", re.M)


def _upsert_section(path: Path, key: str, body: str, header: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else header
    block = f"## [{key}]\n{body.rstrip()}\n\n"
    sections = list(_SECTION.finditer(text))
    for i, m in enumerate(sections):
        if m.group("key") == key:
            end = sections[i + 1].start() if i + 1 < len(sections) else len(text)
            text = text[: m.start()] + block + text[end:]
            break
    else:
        if text and not text.endswith("\n\n"):
            text = text.rstrip("\n") + "\n\n"
        text += block
    atomic_write_text(path, text)


def log_summary(paths: Paths, step: str, text: str) -> None:
    """Record a step's short human summary in summary.txt (replaces that step's old entry)."""
    _upsert_section(paths.summary, step, text, "Product categorization: run summary\n\n")
    print(f"[summary] {step}: {text.splitlines()[0] if text else ''}")


def record_note(paths: Paths, topic: str, text: str) -> None:
    """Record an assumption or a fallback (with its cause) in NOTES.md, one entry per topic."""
    _upsert_section(paths.notes, topic, text, "# NOTES\n\nAssumptions and fallbacks recorded by the notebook.\n\n")
    print(f"[NOTES.md] {topic}: {text.splitlines()[0] if text else ''}")


def read_notes(paths: Paths) -> dict[str, str]:
    if not paths.notes.exists():
        return {}
    text = paths.notes.read_text(encoding="utf-8")
    out: dict[str, str] = {}
    sections = list(_SECTION.finditer(text))
    for i, m in enumerate(sections):
        end = sections[i + 1].start() if i + 1 < len(sections) else len(text)
        out[m.group("key")] = text[m.end():end].strip()
    return out


# --- skip-if-done -------------------------------------------------------------------

def is_complete(*artifacts: os.PathLike | str) -> bool:
    """True when every artifact exists and is non-empty (a folder counts if it has files)."""
    for a in artifacts:
        p = Path(a)
        if p.is_dir():
            if not any(p.iterdir()):
                return False
        elif not p.is_file() or p.stat().st_size == 0:
            return False
    return bool(artifacts)


def should_skip(force: bool, step: str, *artifacts: os.PathLike | str) -> bool:
    if not force and is_complete(*artifacts):
        print(f"[{step}] complete artifacts already exist; skipping (set FORCE=True to redo).")
        return True
    return False
