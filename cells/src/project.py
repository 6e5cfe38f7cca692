"""The PROJECT_ROOT tree and which steps are already done.

In Colab PROJECT_ROOT is on the mounted Drive; elsewhere it is a local folder with the
exact same tree (TREE; the Go tool's drive.Tree is checked equal to it). A step whose
complete artifacts exist is skipped unless cfg.force. Artifacts are written by
src/atomic.py, the run's human logs (summary.txt, NOTES.md) by src/runlog.py.

    from project import make_tree, should_skip
    paths = make_tree(cfg.project_root)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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


# --- skip-if-done: a step whose complete artifacts exist is not redone ------------------

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
