"""Load the product data into the contract frame: product_title, product_description, category.

One loader for every way the data is handed over: `DATA_PATH` in the notebook, `run --data`
and the action's `data` input all end here.

- a CSV: the Kaggle asaniczka `amazon_products.csv` (its `amazon_categories.csv`, plain or
  zipped, is looked for in the same place and beside it), or any CSV whose columns map to
  title / description / category through common aliases (`product_title`, `title`, `name`, ...);
- a zip: one holding both Kaggle files (Kaggle's own download), or either file zipped alone
  (`amazon_products.csv.zip`, with `amazon_categories.csv.zip` beside it);
- a folder holding any of these (searched recursively);
- `SOURCE!MEMBER`: one CSV of a zip or folder that holds several product tables, e.g.
  `shops.zip!shop_a.csv` (MEMBER is its path inside, or only its file name);
- an `http://` or `https://` URL to any of these: downloaded once, with a progress bar, into
  `download_dir(cfg, paths)/url/<hash of the URL>/` through a `.part` file that is resumed when
  the server allows it and renamed only when complete; later runs reuse it without the network;
- a Kaggle dataset handle `owner/name` (also `kaggle:owner/name` or its kaggle.com/datasets URL):
  kagglehub downloads it once into `download_dir(cfg, paths)/kaggle/owner/name/` (public
  datasets need no credentials);
- nothing (DATA_PATH empty): PROJECT_ROOT/data/raw (its downloads/ folder aside), then
  PARENT_PROJECT_ROOT/data/raw (a PR preview reads its parent project's data, never writes
  there), else the built-in demo catalogue (and said so).

`download_dir` is `cfg.download_dir` (env `PC_DOWNLOAD_DIR`), by default PROJECT_ROOT/data/raw/downloads:
a CI cache keeps that folder between runs.

Read once: the parsed frame is cached in data/processed/dataset.parquet, keyed by the size and
mtime of the files it came from, the row cap and this module's own source, so every later load
(Step 2, Step 3, the next run) reads the cache instead of parsing 1.4M rows again.

Duplicates: rows repeating a (title, category) pair, titles compared after lowering case and
squeezing spaces, are dropped; a title left with several categories keeps its rows, and
`title_groups` lets the splits put all of them on one side (no leakage through duplicates).

Every problem with the input raises `DataError` with a one-line message naming the file and
what to do; `run` exits 2 ("bad input") for it. Loading never modifies what the user made.

    df, info = data.load_dataset(cfg, paths)
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pandas as pd

TITLE_ALIASES = ("product_title", "title", "product_name", "name", "item_name", "productname",
                 "product", "item_title")
DESC_ALIASES = ("product_description", "description", "about_product", "product_desc", "desc",
                "details", "product_details", "body", "about")
CATEGORY_ALIASES = ("category", "category_name", "label", "main_category", "product_category",
                    "categories", "class", "product_category_tree", "category_tree", "target")
# 1.4M rows: URL columns alone would cost ~400 MB of Python strings and no step uses them.
DROP_COLUMNS = {"imgurl", "producturl", "img_url", "product_url", "image"}
CONTRACT = ("product_title", "product_description", "category")
CATEGORIES_FILE = "amazon_categories.csv"
DOWNLOADS = "downloads"  # data/raw/downloads: URL and Kaggle downloads, not scanned as the user's data
CACHE_FILE = "dataset.parquet"
_CACHE_META = b"product_categorization"
_CACHE_SLICE_ROWS = 200_000  # rows converted to Arrow at a time: a whole 1.4M-row copy would cost ~0.5 GB more
KAGGLE_HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_-]*(?:/versions/\d+)?$")
_KAGGLE_URL = re.compile(r"^https?://(?:www\.)?kaggle\.com/datasets/([^/?#!]+/[^/?#!]+)[^!]*")
_SOURCE_HINT = ("a CSV, a zip, a folder, SOURCE!MEMBER, an http(s) URL or a Kaggle handle owner/name")
# What a folder's search reads. A file given by name is read as a CSV whatever its suffix; in a
# folder, a README.txt or notes.tsv is not a product table (pandas would read either as one column).
DATA_SUFFIXES = (".csv", ".zip")


class DataError(ValueError):
    """The input data can't be used; the message says which file and why."""


# --- where the data comes from ------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    kind: str  # "path" | "url" | "kaggle"
    target: str  # the local path, the URL or the handle
    member: str = ""  # one CSV inside a zip or folder ("" = find the tables)
    given: str = ""  # as the user wrote it


def parse_source(text: str) -> Spec:
    """Tell a local path (with an optional !MEMBER), a URL and a Kaggle handle apart.

    An existing local path always wins, so a folder named like `owner/name` is read as a folder."""
    given = str(text).strip()
    m = _KAGGLE_URL.match(given)
    if m:
        return Spec("kaggle", m.group(1), given.split("!", 1)[1] if "!" in given else "", given)
    if given.lower().startswith(("http://", "https://")):
        url, _, member = given.rpartition("!") if "!" in given else (given, "", "")
        return Spec("url", url, member, given)
    if given.lower().startswith("kaggle:"):
        handle, _, member = given[len("kaggle:"):].strip().partition("!")
        return Spec("kaggle", handle.strip("/"), member, given)
    path = Path(given).expanduser()
    if path.exists():
        return Spec("path", str(path), "", given)
    body, member = (given.rsplit("!", 1) if "!" in given else (given, ""))
    if member and Path(body).expanduser().exists():
        return Spec("path", str(Path(body).expanduser()), member, given)
    if KAGGLE_HANDLE.match(body):
        return Spec("kaggle", body, member, given)
    return Spec("path", str(Path(body).expanduser()), member, given)


def download_dir(cfg, paths) -> Path:
    """Where URL and Kaggle downloads are kept: cfg.download_dir, else PROJECT_ROOT/data/raw/downloads."""
    return Path(getattr(cfg, "download_dir", "") or Path(paths.raw) / DOWNLOADS)


def _download_dirs(cfg, paths) -> tuple[Path, ...]:
    """Our download folders (this project's and a parent project's): never read as the user's own files."""
    dirs = [download_dir(cfg, paths)]
    if getattr(cfg, "parent_project_root", ""):
        dirs.append(Path(cfg.parent_project_root) / "data" / "raw" / DOWNLOADS)
    return tuple(d.resolve() for d in dirs)


def _skipped(p: Path, skip: tuple[Path, ...]) -> bool:
    return bool(skip) and any(s in p.resolve().parents for s in skip)


def _has_data(folder: Path, skip: tuple[Path, ...] = ()) -> bool:
    if not folder.is_dir():
        return False
    for p in folder.rglob("*"):
        if p.suffix.lower() in DATA_SUFFIXES and p.is_file() and not _hidden(p, folder) and not _skipped(p, skip):
            return True
    return False


def _hidden(p: Path, root: Path) -> bool:
    rel = p.relative_to(root).parts if root in p.parents else (p.name,)
    return any(part.startswith(".") or part == "__MACOSX" for part in rel)


def _no_such(path) -> str:
    return f"{path}: no such file or folder; give {_SOURCE_HINT}, or upload the data (Option A)."


def find_source(cfg, paths) -> Optional[str]:
    """Where the data is: DATA_PATH, else data/raw when it holds a CSV/zip, else the parent project's
    data/raw, else None (the demo). The loader and the acquisition cells (which skip when data is
    present) both ask this. A URL or Kaggle handle in DATA_PATH is returned as given (the loader
    downloads it); a local DATA_PATH that does not exist raises DataError."""
    if getattr(cfg, "data_path", ""):
        given = str(cfg.data_path).strip()
        spec = parse_source(given)
        if spec.kind == "path" and not Path(spec.target).exists():
            raise DataError(_no_such(spec.target))
        return given
    raw = Path(paths.raw)
    skip = _download_dirs(cfg, paths)
    if _has_data(raw, skip):
        return str(raw)
    parent = getattr(cfg, "parent_project_root", "")
    if parent:
        praw = Path(parent) / "data" / "raw"
        if praw.resolve() != raw.resolve() and _has_data(praw, skip):
            print(f"No data in {raw}; reading the parent project's {praw} (read-only).")
            return str(praw)
    return None


def fetch(spec: Spec, cfg, paths) -> Path:
    """The local file or folder behind a source: URLs and Kaggle handles are downloaded (once)."""
    if spec.kind == "url":
        return download_url(spec.target, download_dir(cfg, paths) / "url")
    if spec.kind == "kaggle":
        return download_kaggle(spec.target, download_dir(cfg, paths) / "kaggle")
    return Path(spec.target)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _download_name(url: str, headers) -> str:
    import urllib.parse

    name = headers.get_filename() if hasattr(headers, "get_filename") else None
    if not name:
        name = urllib.parse.unquote(Path(urllib.parse.urlparse(url).path).name)
    name = Path(name or "").name.strip()
    return name if name and not name.startswith(".") else "download"


def download_url(url: str, root: Path, timeout: float = 60.0) -> Path:
    """Download `url` once into root/<sha256(url)[:16]>/<its file name>; later calls reuse it offline.

    Bytes go to `.download.part` (resumed with a Range request when the server allows it) and
    the file appears under its name only when complete, so an interrupted download is never read."""
    import http.client
    import urllib.error
    import urllib.request

    from tqdm.auto import tqdm

    folder = Path(root) / hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    marker = folder / ".source.json"
    if marker.is_file():
        meta = json.loads(marker.read_text(encoding="utf-8"))
        done = folder / meta.get("file", "")
        if meta.get("url") == url and done.is_file() and done.stat().st_size == meta.get("bytes"):
            print(f"Using {done} (downloaded from {url} on {meta.get('downloaded_at', '?')}).")
            return done
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / ".download.part"
    have = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "product-categorization-notebook"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the .part is stale or whole: start again
            part.unlink()
            return download_url(url, root, timeout)
        raise DataError(f"{url}: the server answered HTTP {exc.code} {exc.reason}; check the address "
                        "(a public link to the CSV or zip) or download the file and give its path.") from exc
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or _first_line(exc)
        raise DataError(f"{url}: could not be reached ({reason}); check the address and the network, "
                        "or download the file and give its path.") from exc
    with resp:
        if have and resp.status != 206:  # the server ignored Range: the whole file comes again
            have = 0
        length = int(resp.headers.get("Content-Length") or 0)
        total = have + length if length else None
        name = _download_name(url, resp.headers)
        try:
            with open(part, "ab" if have else "wb") as fh, \
                    tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=f"download {name}") as bar:
                while True:
                    chunk = resp.read(1 << 20)
                    if not chunk:
                        break
                    fh.write(chunk)
                    bar.update(len(chunk))
        except (OSError, ValueError, http.client.HTTPException) as exc:  # reset, timeout, IncompleteRead
            raise DataError(f"{url}: the download broke off at {part.stat().st_size:,} bytes ({_first_line(exc)}); "
                            "run again to resume it.") from exc
    size = part.stat().st_size
    if total and size < total:
        raise DataError(f"{url}: the download broke off at {size:,} of {total:,} bytes; run again to resume it.")
    if size == 0:
        part.unlink()
        raise DataError(f"{url}: the file is empty (0 bytes); check the link.")
    if Path(name).suffix.lower() not in (".csv", ".zip", ".tsv", ".txt"):
        with open(part, "rb") as fh:
            name += ".zip" if fh.read(4) == b"PK\x03\x04" else ".csv"
    target = folder / name
    os.replace(part, target)
    from atomic import atomic_write_json

    atomic_write_json(marker, {"url": url, "file": name, "bytes": size,
                               "downloaded_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
    print(f"Downloaded {url} -> {target} ({size:,} bytes).")
    return target


def download_kaggle(handle: str, root: Path) -> Path:
    """kagglehub.dataset_download(handle) once into root/<handle>/; later calls reuse it offline."""
    folder = Path(root) / handle
    marker = folder / ".source.json"
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")).get("handle") == handle:
        print(f"Using {folder} (Kaggle dataset {handle}, downloaded earlier).")
        return folder
    try:
        import kagglehub
    except ImportError as exc:
        raise DataError(f"Kaggle dataset {handle}: kagglehub is not installed (pip install kagglehub); "
                        "or download the dataset and give its zip or folder.") from exc
    tmp = folder.parent / f".{folder.name}.part"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        try:
            got = Path(kagglehub.dataset_download(handle, output_dir=str(tmp)))
        except TypeError:  # kagglehub before output_dir: its own cache (~/.cache/kagglehub or KAGGLEHUB_CACHE)
            return Path(kagglehub.dataset_download(handle))
    except Exception as exc:  # noqa: BLE001 - 404, 403, no network: one line for the user
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"Kaggle dataset {handle!r} could not be downloaded ({_first_line(exc)}); check the handle "
                        "(kaggle.com/datasets/OWNER/NAME) or, if you meant a local path, that it exists; a private "
                        "dataset needs KAGGLE_API_TOKEN.") from exc
    if got.resolve() != tmp.resolve():  # a kagglehub that ignores output_dir returns its cache
        return got
    shutil.rmtree(folder, ignore_errors=True)  # an earlier unfinished download of ours
    os.replace(tmp, folder)
    from atomic import atomic_write_json

    atomic_write_json(marker, {"handle": handle, "downloaded_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
    return folder


# --- the tables reachable from a source -----------------------------------------------

@dataclass
class Table:
    name: str  # display name: path, or zip path!member
    opener: Callable[[], io.BufferedIOBase]
    columns: list[str]
    file: Optional[Path] = None  # the file on disk (the zip for a member)
    member: str = ""  # path inside the zip, "" for a plain file
    size: int = -1  # bytes of the CSV (uncompressed for a zip member)

    @property
    def base(self) -> str:
        return Path(self.member).name if self.member else Path(self.name).name

    def identity(self) -> list:
        st = self.file.stat()
        return [str(self.file.resolve()), st.st_size, st.st_mtime_ns, self.member]


def _norm(col: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(col).strip().lower())


def _read_csv(table: Table, **kwargs) -> tuple[pd.DataFrame, str]:
    """Read with UTF-8, then latin-1 (old Excel exports); returns (frame, encoding)."""
    if table.size == 0:
        raise DataError(f"{table.name}: the file is empty (0 bytes).")
    for enc in ("utf-8", "latin-1"):
        try:
            with table.opener() as fh:
                return pd.read_csv(fh, encoding=enc, low_memory=False, **kwargs), enc
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as exc:
            raise DataError(f"{table.name}: the file is empty (no header, no rows).") from exc
        except pd.errors.ParserError as exc:
            raise DataError(f"{table.name}: not a readable CSV ({_first_line(exc)}).") from exc
    raise DataError(f"{table.name}: could not decode as UTF-8 or latin-1.")


def _header(opener) -> list[str]:
    for enc in ("utf-8", "latin-1"):
        try:
            with opener() as fh:
                return list(pd.read_csv(fh, nrows=0, encoding=enc).columns)
        except UnicodeDecodeError:
            continue
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            return []
    return []


def zip_tables(f: Path, label: str = "") -> list[Table]:
    """The CSVs inside a zip (macOS resource forks and hidden files aside): the one zip reader, used
    by the loader and by the upload cell that extracts a zip. `label` names the zip in messages and
    table names when `f` is a temporary copy (an upload)."""
    label = label or str(f)
    if f.stat().st_size == 0:
        raise DataError(f"{label}: the file is empty (0 bytes).")
    try:
        with zipfile.ZipFile(f) as zf:
            infos = [i for i in zf.infolist() if i.filename.lower().endswith(".csv") and "__MACOSX" not in i.filename
                     and not Path(i.filename).name.startswith(".")]
    except zipfile.BadZipFile as exc:
        raise DataError(f"{label}: not a valid zip file.") from exc
    out = []
    for info in infos:
        opener = (lambda f=f, m=info.filename: zipfile.ZipFile(f).open(m))
        out.append(Table(f"{label}!{info.filename}", opener, _header(opener) if info.file_size else [], f,
                         info.filename, info.file_size))
    return out


def _file_table(f: Path) -> Table:
    opener = (lambda f=f: open(f, "rb"))
    size = f.stat().st_size
    return Table(str(f), opener, _header(opener) if size else [], f, "", size)


def list_tables(source: str | os.PathLike, skip: tuple[Path, ...] = ()) -> list[Table]:
    """Every CSV reachable from a file, a zip, or a folder (zips inside the folder too)."""
    src = Path(source)
    if not src.exists():
        raise DataError(_no_such(src))
    files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
    tables: list[Table] = []
    for f in files:
        if src.is_dir() and (_hidden(f, src) or _skipped(f, skip)):
            continue
        if f.suffix.lower() == ".zip":
            tables += zip_tables(f)
        elif f.suffix.lower() in DATA_SUFFIXES or not src.is_dir():
            tables.append(_file_table(f))
    return tables


def _beside(path: Path, word: str) -> list[Table]:
    """The CSVs (plain or zipped) next to `path` whose file name holds `word`: the Kaggle pair's other half."""
    out: list[Table] = []
    for f in sorted(path.parent.iterdir()) if path.parent.is_dir() else []:
        if not f.is_file() or f.name.startswith(".") or f.resolve() == path.resolve() or word not in f.name.lower():
            continue
        if f.suffix.lower() == ".zip":
            try:
                out += zip_tables(f)
            except DataError:
                continue
        elif f.suffix.lower() == ".csv":
            out.append(_file_table(f))
    return out


def _find(cols: list[str], aliases: tuple[str, ...]) -> Optional[str]:
    normed = {_norm(c): c for c in cols}
    for a in aliases:
        if a in normed:
            return normed[a]
    return None


def _is_categories_table(t: Table) -> bool:
    n = {_norm(c) for c in t.columns}
    return {"id", "category_name"} <= n and _find(t.columns, TITLE_ALIASES) is None


def _listing(tables: list[Table]) -> str:
    return "; ".join(f"{t.name} ({'empty file' if t.size == 0 else 'columns: ' + (', '.join(map(str, t.columns)) or 'none')})"
                     for t in tables)


def _member_name(t: Table, root: Path) -> str:
    if t.member:
        return t.member
    try:
        return t.file.relative_to(root).as_posix()
    except ValueError:
        return t.base


def _pick_member(tables: list[Table], member: str, source: str, root: Path) -> Table:
    want = member.strip().strip("/").lower()
    exact = [t for t in tables if _member_name(t, root).lower() == want]
    by_name = [t for t in tables if t.base.lower() == Path(want).name]
    hits = exact or by_name
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(_member_name(t, root) for t in (hits or tables)) or "no CSV files"
    if hits:
        raise DataError(f"{source}: several CSVs are called {member!r}: {names}; give the full path inside, "
                        f"e.g. {source}!{_member_name(hits[0], root)}.")
    raise DataError(f"{source}: no CSV called {member!r} in it; it holds: {names}.")


def _pick_products(tables: list[Table], source: str, root: Path) -> Table:
    cands = [t for t in tables if not _is_categories_table(t) and _find(t.columns, TITLE_ALIASES)]
    if len(cands) > 1:  # several CSVs: prefer one named like the products file
        named = [t for t in cands if "product" in t.base.lower()]
        cands = named if len(named) == 1 else cands
    if len(cands) == 1:
        return cands[0]
    if not cands and tables and all(t.size == 0 for t in tables):
        raise DataError(f"{tables[0].name if len(tables) == 1 else source}: the file is empty (0 bytes)"
                        + ("" if len(tables) == 1 else "; every CSV in it is") + ".")
    if not cands:
        raise DataError(f"{source}: no CSV with a title-like column ({', '.join(TITLE_ALIASES)}). "
                        f"Found: {_listing(tables) or 'no CSV files'}")
    raise DataError(f"{source}: several CSVs look like product tables; choose one with SOURCE!MEMBER, e.g. "
                    f"DATA_PATH='{source}!{_member_name(cands[0], root)}'. Found: {_listing(cands)}")


@dataclass
class Plan:
    """What will be read: the products table, and the categories table it needs (Kaggle format)."""
    products: Table
    categories: Optional[Table]
    source: str  # the source as given (path, URL, handle)


def plan(source: str, local: Path, member: str = "", skip: tuple[Path, ...] = ()) -> Plan:
    """Choose the products table of `local` (and its categories table), reading headers only."""
    tables = list_tables(local, skip)
    if not tables:
        raise DataError(f"{source}: no CSV files found in {local} (also looked inside zips).")
    if not member and not local.is_dir() and all(_is_categories_table(t) for t in tables):
        # the categories file (or its zip) was given: its products partner lies beside it
        tables = tables + [t for t in _beside(local, "product") if not _is_categories_table(t)]
    prod = _pick_member(tables, member, source, local) if member else _pick_products(tables, source, local)
    if prod.size == 0:
        raise DataError(f"{prod.name}: the file is empty (0 bytes).")
    if _find(prod.columns, TITLE_ALIASES) is None:
        raise DataError(f"{prod.name}: no title column (expected one of {', '.join(TITLE_ALIASES)}); "
                        f"columns found: {', '.join(map(str, prod.columns)) or 'none'}")
    cats = None
    if _find(prod.columns, CATEGORY_ALIASES) is None and "category_id" in {_norm(c) for c in prod.columns}:
        found = [t for t in tables if _is_categories_table(t)]
        where = [str(local if local.is_dir() else prod.file)]
        if not found and not local.is_dir() and prod.file.resolve() == local.resolve():  # its partner lies beside it
            found = [t for t in _beside(prod.file, "categor") if _is_categories_table(t)]
            where.append(f"beside it in {prod.file.parent}")
        if not found:
            raise DataError(f"{prod.name}: has category_id but no categories table (id, category_name) was found: "
                            f"looked for {CATEGORIES_FILE} or {CATEGORIES_FILE}.zip in {' and '.join(where)}; "
                            "put both files of the Kaggle dataset (amazon_products.csv, amazon_categories.csv) in one folder.")
        named = [t for t in found if "categor" in t.base.lower()]
        cats = (named or found)[0]
    return Plan(prod, cats, source)


# --- read once: the columnar cache in data/processed ----------------------------------

def _loader_version() -> str:
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    except OSError:
        return "unknown"


def cache_key(p: Plan, max_rows: Optional[int]) -> str:
    doc = {"loader": _loader_version(), "products": p.products.identity(),
           "categories": p.categories.identity() if p.categories else None, "max_rows": max_rows}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def cache_path(paths) -> Path:
    return Path(paths.processed) / CACHE_FILE


def _read_cache(path: Path, key: str) -> Optional[tuple[pd.DataFrame, dict]]:
    try:
        import pyarrow.parquet as pq

        meta = json.loads((pq.read_schema(path).metadata or {}).get(_CACHE_META, b"{}"))
        if meta.get("key") != key:
            return None
        # A slice at a time: Arrow holds one 200k-row batch, not a second copy of all 1.4M rows (the
        # read peaked at 1.3 GB that way, now ~0.9 GB, below the 1.2 GB of parsing the CSV).
        parts = [b.to_pandas() for b in pq.ParquetFile(path).iter_batches(batch_size=_CACHE_SLICE_ROWS)]
        for col in [c for c in parts[0].columns if isinstance(parts[0][c].dtype, pd.CategoricalDtype)]:
            cats = pd.api.types.union_categoricals([part[col] for part in parts], sort_categories=True).categories
            for part in parts:
                part[col] = part[col].cat.set_categories(cats)
        df = pd.concat(parts, ignore_index=True)
        del parts
        return df, meta["info"]
    except Exception:  # noqa: BLE001 - absent, foreign or damaged cache: parse the source again
        return None


def _write_cache(df: pd.DataFrame, info: dict, path: Path, key: str) -> bool:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    from atomic import atomic_path

    step = _CACHE_SLICE_ROWS
    try:
        first = pa.Table.from_pandas(df.iloc[:step], preserve_index=False)
        meta = dict(first.schema.metadata or {})
        meta[_CACHE_META] = json.dumps({"key": key, "info": info}, default=str).encode()
        schema = first.schema.with_metadata(meta)
        with atomic_path(path) as tmp, pq.ParquetWriter(tmp, schema) as writer:
            writer.write_table(first.replace_schema_metadata(meta))
            del first
            for start in range(step, len(df), step):
                writer.write_table(pa.Table.from_pandas(df.iloc[start:start + step], schema=schema, preserve_index=False))
        return True
    except (OSError, pa.ArrowException) as exc:  # a full Drive must not stop the run: next load parses again
        print(f"NOTE: could not cache the parsed data in {path} ({_first_line(exc)}).")
        return False


# --- loading --------------------------------------------------------------------------

def load_dataset(cfg, paths, source: Optional[str] = None, use_demo: bool = True) -> tuple[pd.DataFrame, dict]:
    """Return (frame in the data contract, info about what was read and dropped)."""
    given = source or find_source(cfg, paths)
    max_rows = getattr(cfg, "max_rows", None)
    if given is None:
        if not use_demo:
            raise DataError(f"No data in {paths.raw} and DATA_PATH is empty. Upload the CSV (Option A) "
                            "or download it (Option B).")
        import demo_data

        print(f"NOTE: no dataset found (DATA_PATH empty, nothing in {paths.raw}); using the "
              f"{demo_data.DEMO_LABEL}. Upload amazon_products.csv to use your data.")
        df = demo_data.make_catalogue(getattr(cfg, "demo_rows", 3000), seed=cfg.seed)
        out, info = standardize(df, "demo", max_rows=max_rows, demo=True)
        info["data_source"] = "demo"
        return out, info
    spec = parse_source(given)
    local = fetch(spec, cfg, paths)
    skip = tuple(d for d in _download_dirs(cfg, paths) if local.resolve() in d.parents)  # data/raw holds downloads/
    p = plan(spec.given, local, spec.member, skip)
    key = cache_key(p, max_rows)
    cache = cache_path(paths)
    hit = _read_cache(cache, key) if cache.is_file() else None
    if hit is not None:
        df, info = hit
        info.update(data_source=spec.given, cache="read")
        print(f"Read {info['rows']:,} rows from {cache} (the parse of {p.products.name}, unchanged since).")
        return df, info
    df, info = parse(p, max_rows)
    info["data_source"] = spec.given
    info["cache"] = "written" if _write_cache(df, info, cache, key) else "off"
    return df, info


def parse(p: Plan, max_rows: Optional[int] = None) -> tuple[pd.DataFrame, dict]:
    """Read the planned tables and standardize them (the one full parse of a run)."""
    prod = p.products
    usecols = lambda c: _norm(c) not in DROP_COLUMNS  # noqa: E731
    df, enc = _read_csv(prod, usecols=usecols, nrows=max_rows)
    if df.empty:
        raise DataError(f"{prod.name}: has a header but no rows.")
    fmt = "plain"
    if p.categories is not None:
        cdf, _ = _read_csv(p.categories)
        cdf.columns = [_norm(c) for c in cdf.columns]
        id_col = [c for c in df.columns if _norm(c) == "category_id"][0]
        mapping = dict(zip(pd.to_numeric(cdf["id"], errors="coerce"), cdf["category_name"].astype(str)))
        df["category"] = pd.to_numeric(df[id_col], errors="coerce").map(mapping)
        df = df.drop(columns=[id_col])
        fmt = "asaniczka"
    out, info = standardize(df, prod.name, max_rows=None)
    info.update({"source": prod.name, "format": fmt, "encoding": enc,
                 "categories_source": p.categories.name if p.categories is not None else None})
    return out, info


def _title_key(title) -> str:
    return " ".join(str(title).lower().split())


def title_key(titles: pd.Series) -> pd.Series:
    """Titles as duplicates are compared: lower case, runs of whitespace as one space, trimmed."""
    return pd.Series([_title_key(t) for t in titles], index=titles.index, dtype=object)


def title_hashes(titles: pd.Series, chunk: int = 200_000) -> np.ndarray:
    """A uint64 hash of each row's title_key, a slice at a time. A plain loop, not pandas string
    methods: on 1.4M titles their chain of intermediate columns kept ~500 MB and took 2.5x longer.
    (A collision among 1.4M titles: odds ~1e-7.)"""
    out = np.empty(len(titles), dtype=np.uint64)
    for start in range(0, len(titles), chunk):
        keys = np.array([_title_key(t) for t in titles.iloc[start:start + chunk]], dtype=object)
        out[start:start + len(keys)] = pd.util.hash_array(keys)
    return out


def title_groups(titles: pd.Series) -> np.ndarray:
    """One group id per distinct title_key: rows sharing one must land in the same split."""
    return pd.factorize(title_hashes(titles))[0]


def drop_duplicates(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The duplicate rule (every split of the project, the benchmark's too, applies it): rows repeating
    an asin, or a title (title_key) with the same category, are dropped; a title left with several
    categories keeps its rows, which title_groups then holds on one side of a split. Returns the kept
    rows and {"dropped_duplicates", "conflicting_titles", "conflicting_rows"}."""
    # Same product twice (asin), or the same title with the same category (variants, re-listings):
    # kept, such rows would sit in train and test at once and inflate every accuracy.
    tkey = title_hashes(df["product_title"])
    dup = pd.DataFrame({"t": tkey, "c": pd.factorize(df["category"])[0]}).duplicated().to_numpy()
    if "asin" in df.columns:
        dup |= df["asin"].duplicated().to_numpy() & df["asin"].notna().to_numpy()
    if dup.any():
        df, tkey = df.loc[~dup], tkey[~dup]
    shared = pd.Series(tkey).duplicated(keep=False).to_numpy()  # one title, several categories: kept, grouped
    return df, {"dropped_duplicates": int(dup.sum()), "conflicting_titles": int(len(np.unique(tkey[shared]))),
                "conflicting_rows": int(shared.sum())}


def standardize(df: pd.DataFrame, name: str, max_rows: Optional[int] = None,
                demo: bool = False) -> tuple[pd.DataFrame, dict]:
    """Rename aliases to the contract, drop unusable/duplicate rows, compact dtypes."""
    cols = list(df.columns)
    t, d, c = _find(cols, TITLE_ALIASES), _find(cols, DESC_ALIASES), _find(cols, CATEGORY_ALIASES)
    if t is None:
        raise DataError(f"{name}: no title column (expected one of {', '.join(TITLE_ALIASES)}); "
                        f"columns found: {', '.join(map(str, cols))}")
    if c is None:
        raise DataError(f"{name}: no category column (expected one of {', '.join(CATEGORY_ALIASES)}, "
                        f"or category_id + {CATEGORIES_FILE}); columns found: {', '.join(map(str, cols))}")
    if max_rows:
        df = df.iloc[:max_rows]
    rename = {t: "product_title", c: "category"}
    if d is not None:
        rename[d] = "product_description"
    df = df.rename(columns=rename)
    info: dict = {"source": name, "format": "demo" if demo else "plain", "encoding": "utf-8",
                  "rows_read": int(len(df)), "demo": demo, "columns_found": [str(x) for x in cols]}
    if d is None:
        df["product_description"] = ""
    cat = df["category"]
    if cat.notna().sum() == 0:
        raise DataError(f"{name}: the category column '{c}' is empty (all values missing).")
    if _norm(c) in ("product_category_tree", "category_tree"):
        # Flipkart-style '["A >> B >> C"]': the top level is the usable label
        cat = cat.astype(str).str.strip('[]"\' ').str.split(">>").str[0].str.strip()
        df["category"] = cat.where(df["category"].notna())
    df["product_title"] = df["product_title"].fillna("").astype(str).str.strip()
    df["product_description"] = df["product_description"].fillna("").astype(str).str.strip()
    df["category"] = df["category"].astype("string").str.strip()
    bad_cat = df["category"].isna() | (df["category"] == "")
    info["dropped_missing_category"] = int(bad_cat.sum())
    empty = (df["product_title"] == "") & (df["product_description"] == "")
    info["dropped_empty_text"] = int((empty & ~bad_cat).sum())
    df = df.loc[~(bad_cat | empty)]
    if df.empty:
        raise DataError(f"{name}: no usable rows left (every row lacks a category or any text).")
    df, dup_info = drop_duplicates(df)
    info.update(dup_info)
    info["description_missing_frac"] = float((df["product_description"] == "").mean())
    df = df.reset_index(drop=True)
    df["category"] = df["category"].astype(str).astype("category")
    for col in df.columns:
        if col not in CONTRACT and df[col].dtype == np.float64:
            df[col] = df[col].astype(np.float32)
    front = list(CONTRACT) + [x for x in df.columns if x not in CONTRACT]
    df = df[front]
    info.update(rows=int(len(df)), n_classes=int(df["category"].nunique()))
    return df, info


def note_duplicates(paths, info: dict) -> None:
    """Say in NOTES.md how many rows the duplicate rule touched (Quick Start and Step 3)."""
    from runlog import record_note

    record_note(paths, "duplicate-titles",
                f"{info['dropped_duplicates']:,} of {info['rows_read']:,} rows were dropped as duplicates (the same asin, "
                "or the same title and category, titles compared ignoring case and spacing), so no title sits in "
                f"train and test at once. {info.get('conflicting_titles', 0):,} titles carry more than one category "
                f"({info.get('conflicting_rows', 0):,} rows): each such title's rows are kept together in one split.")


def verify(cfg, paths, source: Optional[str] = None) -> dict:
    """Check the data can be read and mapped to the contract; returns a small report."""
    df, info = load_dataset(cfg, paths, source=source)
    report = {k: info.get(k) for k in ("data_source", "source", "categories_source", "format", "encoding", "rows",
                                       "n_classes", "dropped_duplicates", "conflicting_titles",
                                       "description_missing_frac")}
    report["columns"] = list(df.columns)
    report["head"] = df.head(5)
    return report
