"""Load the product data into the contract frame: product_title, product_description, category.

Accepted inputs (a file, a zip, or a folder; `cfg.data_path`, else PROJECT_ROOT/data/raw):
- the Kaggle asaniczka pair `amazon_products.csv` + `amazon_categories.csv`, plain or zipped
  (one zip holding both, two zips, or a folder) — joined on category_id -> category_name;
- any CSV whose columns map to title / description / category through common aliases.
With no data at all, the built-in demo catalogue is used (and said so).

Every problem with the input raises `DataError` whose message names the file; nothing in
PROJECT_ROOT is modified by loading.

    df, info = data.load_dataset(cfg, paths)
"""
from __future__ import annotations

import io
import os
import re
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


class DataError(ValueError):
    """The input data can't be used; the message says which file and why."""


@dataclass
class Table:
    name: str  # display name: path, or zip path!member
    opener: Callable[[], io.BufferedIOBase]
    columns: list[str]


def _norm(col: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(col).strip().lower())


def _read_csv(table: Table, **kwargs) -> tuple[pd.DataFrame, str]:
    """Read with UTF-8, then latin-1 (old Excel exports); returns (frame, encoding)."""
    for enc in ("utf-8", "latin-1"):
        try:
            with table.opener() as fh:
                return pd.read_csv(fh, encoding=enc, low_memory=False, **kwargs), enc
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as exc:
            raise DataError(f"{table.name}: the file is empty (no header, no rows).") from exc
        except pd.errors.ParserError as exc:
            raise DataError(f"{table.name}: not a readable CSV ({exc}).") from exc
    raise DataError(f"{table.name}: could not decode as UTF-8 or latin-1.")


def _header(name: str, opener) -> list[str]:
    for enc in ("utf-8", "latin-1"):
        try:
            with opener() as fh:
                return list(pd.read_csv(fh, nrows=0, encoding=enc).columns)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            return []
    return []


def list_tables(source: str | os.PathLike) -> list[Table]:
    """Every CSV reachable from a file, a zip, or a folder (zips inside the folder too)."""
    src = Path(source)
    if not src.exists():
        raise DataError(f"{src}: no such file or folder. Upload the CSV (Option A) or set DATA_PATH.")
    files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
    tables: list[Table] = []
    for f in files:
        if f.name.startswith(".") or "__MACOSX" in f.parts:
            continue
        if f.suffix.lower() == ".zip":
            try:
                zf = zipfile.ZipFile(f)
            except zipfile.BadZipFile as exc:
                raise DataError(f"{f}: not a valid zip file.") from exc
            for member in zf.namelist():
                if member.lower().endswith(".csv") and "__MACOSX" not in member:
                    opener = (lambda f=f, m=member: zipfile.ZipFile(f).open(m))
                    tables.append(Table(f"{f}!{member}", opener, _header(member, opener)))
        elif f.suffix.lower() in (".csv", ".tsv", ".txt") or not src.is_dir():
            opener = (lambda f=f: open(f, "rb"))
            tables.append(Table(str(f), opener, _header(str(f), opener)))
    return tables


def _find(cols: list[str], aliases: tuple[str, ...]) -> Optional[str]:
    normed = {_norm(c): c for c in cols}
    for a in aliases:
        if a in normed:
            return normed[a]
    return None


def _is_categories_table(t: Table) -> bool:
    n = {_norm(c) for c in t.columns}
    return {"id", "category_name"} <= n and _find(t.columns, TITLE_ALIASES) is None


def _pick_products(tables: list[Table], source: str) -> Table:
    cands = [t for t in tables if not _is_categories_table(t) and _find(t.columns, TITLE_ALIASES)]
    if len(cands) > 1:  # several CSVs: prefer one named like the products file
        named = [t for t in cands if "product" in Path(t.name.split("!")[-1]).name.lower()]
        cands = named if len(named) == 1 else cands
    if len(cands) == 1:
        return cands[0]
    listing = "; ".join(f"{t.name} (columns: {', '.join(map(str, t.columns)) or 'none'})" for t in tables)
    if not cands:
        raise DataError(f"{source}: no CSV with a title-like column ({', '.join(TITLE_ALIASES)}). "
                        f"Found: {listing or 'no CSV files'}")
    raise DataError(f"{source}: several CSVs look like product tables; point DATA_PATH at one. Found: {listing}")


def find_source(cfg, paths) -> Optional[str]:
    """cfg.data_path, else data/raw when it holds a CSV/zip, else None (= demo catalogue)."""
    if getattr(cfg, "data_path", ""):
        return str(cfg.data_path)
    raw = Path(paths.raw)
    if raw.is_dir() and any(p.suffix.lower() in (".csv", ".zip") and not p.name.startswith(".")
                            for p in raw.iterdir()):
        return str(raw)
    return None


def load_dataset(cfg, paths, source: Optional[str] = None, use_demo: bool = True) -> tuple[pd.DataFrame, dict]:
    """Return (frame in the data contract, info about what was read and dropped)."""
    source = source or find_source(cfg, paths)
    max_rows = getattr(cfg, "max_rows", None)
    if source is None:
        if not use_demo:
            raise DataError(f"No data in {paths.raw} and DATA_PATH is empty. Upload the CSV (Option A) "
                            "or download it (Option B).")
        import demo_data

        print(f"NOTE: no dataset found (DATA_PATH empty, nothing in {paths.raw}); using the "
              f"{demo_data.DEMO_LABEL}. Upload amazon_products.csv to use your data.")
        df = demo_data.make_catalogue(getattr(cfg, "demo_rows", 3000), seed=cfg.seed)
        return standardize(df, "demo", max_rows=max_rows, demo=True)
    tables = list_tables(source)
    if not tables:
        raise DataError(f"{source}: no CSV files found (also looked inside zips).")
    prod = _pick_products(tables, source)
    usecols = lambda c: _norm(c) not in DROP_COLUMNS  # noqa: E731
    df, enc = _read_csv(prod, usecols=usecols, nrows=max_rows)
    if df.empty:
        raise DataError(f"{prod.name}: has a header but no rows.")
    fmt = "plain"
    cat_col = _find(list(df.columns), CATEGORY_ALIASES)
    if cat_col is None and "category_id" in {_norm(c) for c in df.columns}:
        cats = [t for t in tables if _is_categories_table(t)]
        if not cats:
            raise DataError(f"{prod.name}: has category_id but no amazon_categories.csv (id, category_name) "
                            "was found beside it; upload both files of the Kaggle dataset.")
        cdf, _ = _read_csv(cats[0])
        cdf.columns = [_norm(c) for c in cdf.columns]
        id_col = [c for c in df.columns if _norm(c) == "category_id"][0]
        mapping = dict(zip(pd.to_numeric(cdf["id"], errors="coerce"), cdf["category_name"].astype(str)))
        df["category"] = pd.to_numeric(df[id_col], errors="coerce").map(mapping)
        df = df.drop(columns=[id_col])
        fmt = "asaniczka"
    info_extra = {"source": prod.name, "format": fmt, "encoding": enc}
    out, info = standardize(df, prod.name, max_rows=None)
    info.update(info_extra)
    return out, info


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
                        f"or category_id + amazon_categories.csv); columns found: {', '.join(map(str, cols))}")
    if max_rows:
        df = df.iloc[:max_rows]
    rename = {t: "product_title", c: "category"}
    if d is not None:
        rename[d] = "product_description"
    df = df.rename(columns=rename)
    info: dict = {"source": name, "format": "demo" if demo else "plain", "encoding": "utf-8",
                  "rows_read": int(len(df)), "demo": demo, "columns_found": cols}
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
    key = ["asin"] if "asin" in df.columns else list(CONTRACT)
    dup = df.duplicated(subset=key) | df.duplicated(subset=list(CONTRACT))
    info["dropped_duplicates"] = int(dup.sum())
    if dup.any():
        df = df.loc[~dup]
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


def describe_info(info: dict) -> str:
    """One human line about what was loaded and dropped."""
    return (f"{info['rows']:,} rows, {info['n_classes']} categories from {info['source']} "
            f"({info['format']}); dropped {info['dropped_duplicates']} duplicates, "
            f"{info['dropped_missing_category']} without category, {info['dropped_empty_text']} without text; "
            f"descriptions missing in {info['description_missing_frac']:.0%} of rows")


def verify(cfg, paths, source: Optional[str] = None) -> dict:
    """Check the data can be read and mapped to the contract; returns a small report."""
    df, info = load_dataset(cfg, paths, source=source)
    report = {k: info[k] for k in ("source", "format", "encoding", "rows", "n_classes",
                                   "dropped_duplicates", "description_missing_frac")}
    report["columns"] = list(df.columns)
    report["head"] = df.head(5)
    return report
