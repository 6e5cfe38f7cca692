"""The run's human logs in PROJECT_ROOT: summary.txt (what each step did) and NOTES.md
(assumptions and fallbacks with their causes). Both are keyed by step/topic: re-running a
step replaces its entry instead of appending a duplicate.

    from runlog import log_summary, record_note
    log_summary(paths, "Step 3 — preprocessing", text)   # summary.txt, section [Step 3 — preprocessing]
    record_note(paths, "rare classes", text)              # NOTES.md, section [rare classes]
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from atomic import atomic_write_text

if TYPE_CHECKING:
    from project import Paths

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
