"""Getting the raw data into PROJECT_ROOT/data/raw/ (Option A upload, Option B Kaggle) and
copying the assignment document from Drive.

Both options skip with a message when usable data is already present (data.find_source, the
loader's own search: DATA_PATH set to a path, URL or Kaggle handle, which the loader reads itself;
or CSV/zip files in data/raw or in the parent project's data/raw), so re-running the notebook never
re-downloads 1.4M rows. A zip is opened by the loader's zip reader (data.zip_tables), so an upload
and a DATA_PATH zip agree on which CSVs it holds; a bad one is a DataError, like any bad input.
In Colab, a failure to obtain the data raises `AcquireError` telling the user what to do;
elsewhere the cells explain and do nothing.

    import acquire
    acquire.option_a_upload(cfg, paths)     # Colab upload widget
    acquire.option_b_kaggle(cfg, paths)     # kagglehub, no credentials needed for this public dataset
    acquire.copy_assignment_doc(paths)
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Optional

KAGGLE_DATASET = "asaniczka/amazon-products-dataset-2023-1-4m-products"


class AcquireError(RuntimeError):
    """The data could not be obtained; the message says how to provide it manually."""


def save_upload(name: str, content: bytes, raw_dir: Path) -> list[Path]:
    """Store one uploaded file in data/raw: zips are extracted, a lone products CSV becomes amazon_products.csv."""
    from atomic import atomic_write_bytes

    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    safe = Path(name).name
    if safe.lower().endswith(".zip"):
        tmp = raw_dir / f".{safe}.part"
        tmp.write_bytes(content)
        try:
            return extract_zip(tmp, raw_dir, label=safe)
        finally:
            tmp.unlink(missing_ok=True)
    low = safe.lower()
    target = raw_dir / ("amazon_categories.csv" if "categor" in low else
                        "amazon_products.csv" if low.endswith(".csv") else safe)
    atomic_write_bytes(target, content)
    return [target]


def extract_zip(zip_path: Path, raw_dir: Path, label: str = "") -> list[Path]:
    """Extract the CSVs of a zip into raw_dir (flat names, atomically). `label`: the zip's name in
    messages (an upload's own name, not its temporary file's)."""
    import data
    from atomic import atomic_path

    label = label or Path(zip_path).name
    out = []
    for table in data.zip_tables(Path(zip_path), label):
        target = Path(raw_dir) / Path(table.member).name
        with atomic_path(target) as tmp, table.opener() as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, length=1 << 20)
        out.append(target)
    if not out:
        raise data.DataError(f"{label}: the zip holds no CSV file.")
    return out


def option_a_upload(cfg, paths, uploader: Optional[Callable[[], dict]] = None, in_colab: Optional[bool] = None) -> dict:
    """Colab upload widget -> data/raw/amazon_products.csv (+ categories); zips are extracted."""
    from project import in_colab as _in_colab

    import data

    present = data.find_source(cfg, paths)
    if present and uploader is None:
        print(f"Data already present at {present}; skipping the upload (delete it or set FORCE to replace).")
        if not cfg.force:
            return {"skipped": True, "source": present}
    colab = _in_colab() if in_colab is None else in_colab
    if uploader is None and not colab:
        print("Option A needs the Colab upload widget. Outside Colab, copy amazon_products.csv (and "
              f"amazon_categories.csv) into {paths.raw} or set DATA_PATH; nothing was done.")
        return {"skipped": True, "source": None}
    if uploader is None:
        from google.colab import files  # noqa: PLC0415 - Colab only

        uploader = files.upload
    uploaded = uploader() or {}
    if not uploaded:  # cancelled: the user may prefer Option B, so don't stop "Run all" here
        print("No file was uploaded; use Option B (Kaggle) below, or run this cell again.")
        return {"skipped": True, "source": None}
    saved = [str(p) for name, content in uploaded.items() for p in save_upload(name, content, paths.raw)]
    print("Saved:", *saved, sep="\n  ")
    return {"skipped": False, "files": saved}


def colab_secret(name: str = "KAGGLE_API_TOKEN") -> Optional[str]:
    try:
        from google.colab import userdata  # noqa: PLC0415

        return userdata.get(name)
    except ImportError:
        return None
    except Exception as exc:  # noqa: BLE001 - NotebookAccessError / SecretNotFoundError
        print(f"Colab secret {name} not available ({type(exc).__name__}).")
        return None


def option_b_kaggle(cfg, paths, downloader: Optional[Callable[[str], str]] = None,
                    in_colab: Optional[bool] = None, ask_kaggle_json: bool = True) -> dict:
    """Download the asaniczka dataset with kagglehub and copy its CSVs into data/raw."""
    from project import in_colab as _in_colab

    import data

    colab = _in_colab() if in_colab is None else in_colab
    present = data.find_source(cfg, paths)
    if present and not cfg.force:
        print(f"Data already present at {present}; skipping the Kaggle download.")
        return {"skipped": True, "source": present}
    if downloader is None:
        try:
            import kagglehub  # noqa: PLC0415
        except ImportError:
            msg = "kagglehub is not installed (pip install kagglehub), so Option B can't run."
            if colab:
                raise AcquireError(msg + " Upload the CSV with Option A instead.")
            print(msg + " Nothing was done.")
            return {"skipped": True, "source": None}
        downloader = kagglehub.dataset_download
    folder, err = _try_download(downloader)
    errors = [] if folder else [f"without credentials: {err}"]
    if folder is None:
        token = os.environ.get("KAGGLE_API_TOKEN") or (colab_secret() if colab else None)
        if token:
            os.environ["KAGGLE_API_TOKEN"] = token
        elif colab and ask_kaggle_json:
            token = _upload_kaggle_json()
        if token or _kaggle_files_exist():
            folder, err = _try_download(downloader)
            if folder is None:
                errors.append(f"with credentials: {err}")
        else:
            errors.append("no Kaggle credentials (Colab secret KAGGLE_API_TOKEN, env KAGGLE_API_TOKEN, or ~/.kaggle/kaggle.json)")
    if folder is None:
        msg = ("Could not download the dataset from Kaggle (" + "; ".join(errors) + "). Add a Colab secret "
               "KAGGLE_API_TOKEN (key icon in the left bar) or upload kaggle.json, or upload "
               "amazon_products.csv + amazon_categories.csv manually with Option A.")
        if colab:
            raise AcquireError(msg)
        print(msg)
        return {"skipped": True, "source": None, "errors": errors}
    from atomic import atomic_path

    saved = []
    for f in sorted(folder.rglob("*")):
        if f.suffix.lower() == ".csv":
            with atomic_path(paths.raw / f.name) as tmp:
                shutil.copyfile(f, tmp)
            saved.append(str(paths.raw / f.name))
        elif f.suffix.lower() == ".zip":
            saved += [str(p) for p in extract_zip(f, paths.raw)]
    if not saved:
        raise AcquireError(f"The Kaggle download at {folder} holds no CSV; upload the CSV with Option A.")
    print("Saved:", *saved, sep="\n  ")
    return {"skipped": False, "files": saved}


def _try_download(downloader) -> tuple[Optional[Path], str]:
    try:
        return Path(downloader(KAGGLE_DATASET)), ""
    except Exception as exc:  # noqa: BLE001 - network, 403, rate limit: the caller tries credentials next
        return None, f"{type(exc).__name__}: {exc}"


def _kaggle_files_exist() -> bool:
    k = Path.home() / ".kaggle"
    return (k / "kaggle.json").exists() or (k / "access_token").exists()


def _upload_kaggle_json() -> Optional[str]:
    """Colab only: ask for kaggle.json, store it as ~/.kaggle/kaggle.json (chmod 600)."""
    from google.colab import files  # noqa: PLC0415

    print("Upload your kaggle.json (Kaggle -> Settings -> API -> Create New Token), or cancel.")
    up = files.upload() or {}
    for name, content in up.items():
        if name.endswith(".json"):
            target = Path.home() / ".kaggle" / "kaggle.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            target.chmod(0o600)
            return "kaggle.json"
    return None


ASSIGNMENT_PATTERNS = ("*assignment*.pdf", "*assignment*.docx", "*assignment*.md", "*Assignment*.pdf",
                       "*Assignment*.docx", "*Assignment*.md", "*assignment*.txt")


def copy_assignment_doc(paths, search_dirs: Optional[list] = None) -> dict:
    """Copy an assignment document found on Drive into data/raw and record its path in NOTES.md."""
    from atomic import atomic_path
    from runlog import record_note

    dirs = search_dirs if search_dirs is not None else [paths.root, paths.root.parent]
    found = []
    for d in dirs:
        d = Path(d)
        if d.is_dir():
            for pat in ASSIGNMENT_PATTERNS:
                found += [p for p in d.glob(pat) if p.is_file()]
    found = sorted(set(found))
    if not found:
        record_note(paths, "assignment-doc", "No assignment document (*assignment*.pdf/docx/md) found in "
                    f"{', '.join(map(str, dirs))}; nothing copied.")
        return {"copied": []}
    copied = []
    for src in found:
        dst = paths.raw / src.name
        if src.resolve() != dst.resolve():
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
        copied.append(str(dst))
    record_note(paths, "assignment-doc", "Assignment document copied to: " + ", ".join(copied)
                + f" (from {', '.join(map(str, found))}).")
    return {"copied": copied}
