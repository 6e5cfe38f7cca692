"""The benchmark datasets, each as a DataFrame in the pipeline's data contract.

Columns: `product_title`, `product_description` ("" when the source has none), `category`.
The shared datasets live in `<repo>/../shared/datasets` (that is where CI mounts them);
`BENCH_DATASETS` overrides the folder. Every loader applies the same cleaning rules the
benchmark brief fixes, so a model's number is comparable across runs and machines:

- asaniczka_random10k: uniform 10k sample of the user's Amazon schema, category_id joined
  to amazon_categories.csv (long-tailed, 241 classes).
- asaniczka_per_category20: 20 rows for each of the 248 Amazon categories.
- flipkart_20k: level-1 category of product_category_tree; single-level "trees" are the
  product name itself (junk labels) and are dropped; repeated titles are dropped so a
  size/colour variant can't sit in both train and test.
- flipkart_999 (optional): the only real title + description rows; same label rule.
- walmart_amazon (when present): the Amazon side (tableB.csv) of the Walmart-Amazon
  entity-matching benchmark (Magellan/DeepMatcher), electronics and office titles that carry
  brands and model numbers ("kinamax ms-ues2 mini ... mouse"); repeated titles dropped,
  categories with fewer than 10 rows dropped. Not in ../shared/datasets and never committed:
  it is read from BENCH_EXTRA_DATASETS (default bench/out/datasets)/walmart_amazon/ when there,
  as tableB.csv (DeepMatcher's download) or as Ditto's copy of the pairs (megagonlabs/ditto,
  data/er_magellan/Structured/Walmart-Amazon/{train,valid,test}.txt, the Amazon side of each pair;
  ~4.4k distinct titles in ~95 categories). README, Benchmarks, says how to get it.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def datasets_root() -> Path:
    return Path(os.environ.get("BENCH_DATASETS") or (REPO.parent / "shared" / "datasets")).resolve()


def extra_datasets_root() -> Path:
    """Datasets the bench uses when present but that are neither shared nor committed."""
    return Path(os.environ.get("BENCH_EXTRA_DATASETS") or (REPO / "bench" / "out" / "datasets")).resolve()


def _amazon(products: str) -> Callable[[Path], pd.DataFrame]:
    """Plain join, no de-duplication: the same rows, in the same order, as
    bench/finetune_minilm.py reads, so both produce the identical 80/20 split."""
    def load(folder: Path) -> pd.DataFrame:
        prod = pd.read_csv(folder / products)
        cats = pd.read_csv(folder / "amazon_categories.csv")
        df = prod.merge(cats, left_on="category_id", right_on="id", how="inner")
        return pd.DataFrame({
            "product_title": df["title"].fillna("").astype(str),
            "product_description": "",
            "category": df["category_name"].astype(str),
        })
    return load


def _level1(tree: str) -> tuple[str, int]:
    """(top-level category, depth) of a Flipkart tree such as '["A >> B >> C"]'."""
    try:
        path = json.loads(tree)[0]
    except (ValueError, TypeError, IndexError):
        return "", 0
    parts = [p.strip() for p in str(path).split(">>")]
    return parts[0], len(parts)


def _flipkart(folder: Path, header: bool) -> pd.DataFrame:
    csv = folder / "flipkart_com-ecommerce_sample.csv"
    if header:
        raw = pd.read_csv(csv).dropna(how="all")  # the 999-row copy pads with empty lines
    else:
        raw = pd.read_csv(csv, header=None, names=["uniq_id", "product_name", "product_category_tree"])
    level = raw["product_category_tree"].map(_level1)
    df = pd.DataFrame({
        "product_title": raw["product_name"].fillna("").astype(str).str.strip(),
        "product_description": (raw["description"].fillna("").astype(str) if "description" in raw
                                else ""),
        "category": [c for c, _ in level],
        "_depth": [d for _, d in level],
    })
    df = df[(df["_depth"] >= 2) & (df["category"] != "") & (df["product_title"] != "")]
    df = df.drop_duplicates(subset="product_title", keep="first")
    return df.drop(columns="_depth")


_DITTO_FIELD = re.compile(r"COL (\w+) VAL (.*?)(?= COL |\s*$)")


def _ditto_amazon_side(folder: Path) -> pd.DataFrame:
    """The Amazon records (the second of each pair) of Ditto's serialised copy of the benchmark
    (megagonlabs/ditto, data/er_magellan/Structured/Walmart-Amazon/{train,valid,test}.txt: one pair per
    line, `COL title VAL ... COL category VAL ...` per side, tab-separated, then the match label)."""
    rows = []
    for name in ("train.txt", "valid.txt", "test.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                rows.append(dict(_DITTO_FIELD.findall(parts[1])))
    return pd.DataFrame(rows, columns=["title", "category"])


def _walmart_amazon(folder: Path, min_rows: int = 10) -> pd.DataFrame:
    raw = pd.read_csv(folder / "tableB.csv") if (folder / "tableB.csv").is_file() else _ditto_amazon_side(folder)
    df = pd.DataFrame({"product_title": raw["title"].fillna("").astype(str).str.strip(),
                       "product_description": "", "category": raw["category"].fillna("").astype(str)})
    df = df[(df["product_title"] != "") & (df["category"] != "")].drop_duplicates(subset="product_title")
    counts = df["category"].value_counts()
    return df[df["category"].map(counts) >= min_rows]


def _demo(_folder: Path) -> pd.DataFrame:
    """The notebook's built-in demo catalogue: --quick falls back to it where the shared
    datasets are not mounted, so the command still proves itself end to end."""
    import sys

    src = str(REPO / "cells" / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import demo_data

    return demo_data.make_catalogue(3000, seed=42)[["product_title", "product_description", "category"]]


@dataclass(frozen=True)
class BenchDataset:
    name: str
    folder: str
    load_fn: Callable[[Path], pd.DataFrame]
    has_description: bool
    optional: bool = False  # too small to rank models; reported, but excluded from the goal
    extra: bool = False  # found under extra_datasets_root(), not the shared datasets

    def path(self) -> Path:
        return (extra_datasets_root() if self.extra else datasets_root()) / self.folder

    def available(self) -> bool:
        return self.folder == "" or self.path().is_dir()

    def load(self) -> pd.DataFrame:
        df = self.load_fn(self.path()).reset_index(drop=True)
        df["product_description"] = df["product_description"].fillna("").astype(str)
        return df


DATASETS: dict[str, BenchDataset] = {d.name: d for d in (
    BenchDataset("asaniczka_random10k", "asaniczka_amazon2023_random10k",
                 _amazon("amazon_products_sample.csv"), has_description=False),
    BenchDataset("asaniczka_per_category20", "asaniczka_amazon2023_per_category20",
                 _amazon("amazon_products.csv"), has_description=False),
    BenchDataset("flipkart_20k", "flipkart_20k_title_category",
                 lambda p: _flipkart(p, header=False), has_description=False),
    BenchDataset("flipkart_999", "flipkart_999_full_columns",
                 lambda p: _flipkart(p, header=True), has_description=True, optional=True),
    BenchDataset("walmart_amazon", "walmart_amazon", _walmart_amazon, has_description=False, extra=True),
)}
# Not part of the full benchmark: synthetic data says nothing about real accuracy.
DEMO = BenchDataset("demo_catalogue", "", _demo, has_description=True, optional=True)
