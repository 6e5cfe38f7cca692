"""Read the processed splits and the label map written by Step 3 (see docs/design.md).

The one reader of these artifacts: every later stage calls `load_split` / `load_label_map`.
`data/processed/{train,val,test}.csv` carry `product_title`, `product_description`,
`category`, `text_clean`, `label` (+ metadata); `models/label_map.json` maps ids to category
names (use it for the label set: no need to read 1.1M training rows for it).

Text columns come back exactly as written, "" where empty (never NaN: a title "NA" stays
"NA"); numeric metadata keeps NaN for its blanks; `category` is categorical; `label` is int64.

    from splits import load_split, load_label_map
    test = load_split(paths, "test")
    train = load_split(paths, "train", usecols=["text_clean", "category"])
    id2label, label2id = load_label_map(paths)
"""
from __future__ import annotations

import json
from typing import Optional

import numpy as np
import pandas as pd

TEXT_COLUMNS = ("product_title", "product_description", "category", "text_clean")


def split_path(paths, name: str):
    return paths.processed / f"{name}.csv"


def load_split(paths, name: str, usecols: Optional[list[str]] = None) -> pd.DataFrame:
    path = split_path(paths, name)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run Step 3 (preprocessing) first")
    header = list(pd.read_csv(path, nrows=0).columns)
    cols = header if usecols is None else [c for c in header if c in set(usecols)]
    missing = sorted(set(usecols or ()) - set(header) - {"product_description"})
    if missing:
        raise ValueError(f"{path} has no column {', '.join(missing)}: re-run Step 3 with FORCE=True")
    # Only the metadata columns turn blanks into NaN; text is read verbatim.
    df = pd.read_csv(path, usecols=cols, dtype={c: str for c in TEXT_COLUMNS if c in cols},
                     keep_default_na=False, na_values={c: [""] for c in cols if c not in TEXT_COLUMNS},
                     low_memory=False)
    if "product_description" not in df.columns and (usecols is None or "product_description" in usecols):
        df["product_description"] = ""
    if "category" in df.columns:
        df["category"] = df["category"].astype("category")
    if "label" in df.columns:
        df["label"] = pd.to_numeric(df["label"], errors="coerce").fillna(-1).astype(np.int64)
    return df


def load_label_map(paths) -> tuple[dict[int, str], dict[str, int]]:
    path = paths.models / "label_map.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run Step 3 (preprocessing) first")
    raw = json.loads(path.read_text(encoding="utf-8"))
    id2label = {int(k): str(v) for k, v in raw["id2label"].items()}
    label2id = {str(k): int(v) for k, v in raw.get("label2id", {v: k for k, v in id2label.items()}).items()}
    return id2label, label2id


def pair_texts(df: pd.DataFrame) -> tuple[list[str], list[str] | None]:
    """(titles, descriptions) for a tokenizer pair; None when no row has a description."""
    titles = df["product_title"].astype(str).tolist()
    descs = df["product_description"].astype(str).tolist() if "product_description" in df.columns else []
    return titles, (descs if any(d.strip() for d in descs) else None)
