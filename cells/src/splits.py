"""Read the processed splits and the label map written by Step 3 (see docs/design.md).

`data/processed/{train,val,test}.csv` carry `product_title`, `product_description`,
`category`, `text_clean`, `label` (+ metadata); `models/label_map.json` maps ids to
category names. Missing descriptions are read back as "" (not NaN), as the contract says.

    from splits import load_split, load_label_map
    test = load_split(paths, "test")
"""
from __future__ import annotations

import json

import pandas as pd

TEXT_COLUMNS = ("product_title", "product_description", "category", "text_clean")


def load_split(paths, name: str) -> pd.DataFrame:
    path = paths.processed / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run Step 3 (preprocessing) first")
    df = pd.read_csv(path, keep_default_na=False, na_values=[], low_memory=False)
    for col in TEXT_COLUMNS:
        if col in df.columns:
            df[col] = df[col].astype(str)
    if "product_description" not in df.columns:
        df["product_description"] = ""
    if "label" in df.columns:
        df["label"] = pd.to_numeric(df["label"], errors="coerce").fillna(-1).astype(int)
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
