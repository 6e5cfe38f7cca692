"""Step 2: load the data and a quick EDA with PNGs in results/plots/.

Plots are built for 248 long category names: horizontal bars, labels wrapped/truncated,
figure height grows with the number of bars, log scale when the largest class is far
bigger than the smallest. A 100%-missing description column still gets a PNG that says so.

    import eda
    out = eda.run(cfg, paths)   # out["head"], out["dtypes"], out["missing"], out["plots"], ...
"""
from __future__ import annotations

import textwrap
import time
from typing import Optional

import numpy as np
import pandas as pd

PLOTS = ("top20_categories.png", "title_length.png", "description_length.png", "class_imbalance.png")


def _label(name: str, width: int = 38) -> str:
    short = name if len(name) <= 2 * width else name[: 2 * width - 1] + "…"
    return "\n".join(textwrap.wrap(short, width)) or name


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        try:
            matplotlib.use("Agg")
        except Exception:  # noqa: BLE001 - an interactive backend is already active
            pass
    import matplotlib.pyplot as plt

    return plt


def plot_top_categories(counts: pd.Series, path, top: int = 20) -> None:
    from atomic import atomic_savefig

    plt = _plt()
    c = counts.head(top)[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(c) + 1.5))
    ax.barh([_label(str(x)) for x in c.index], c.to_numpy(), color="#4C72B0")
    for y, v in enumerate(c.to_numpy()):
        ax.text(v, y, f" {v:,}", va="center", fontsize=8)
    ax.set_xlabel("products")
    ax.set_title(f"Top {len(c)} of {len(counts)} categories by number of products")
    ax.tick_params(axis="y", labelsize=8)
    ax.margins(x=0.12)
    atomic_savefig(fig, path)
    plt.close(fig)


def plot_lengths(text: pd.Series, path, what: str) -> dict:
    """Histogram of lengths in chars and tokens; an explanatory PNG when the column is empty."""
    from atomic import atomic_savefig

    plt = _plt()
    present = text[text != ""]
    stats = {"present": int(len(present)), "missing_frac": float(1 - len(present) / max(len(text), 1))}
    if present.empty:
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.axis("off")
        ax.text(0.5, 0.5, f"No {what} text in this dataset\n({len(text):,} rows, 100% missing)\n"
                "The models use the title only.", ha="center", va="center", fontsize=14)
        atomic_savefig(fig, path)
        plt.close(fig)
        return stats
    chars = present.str.len().to_numpy()
    toks = (present.str.count(r"\s+") + 1).to_numpy()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, vals, unit in ((axes[0], toks, "tokens (whitespace)"), (axes[1], chars, "characters")):
        hi = np.percentile(vals, 99.5)
        ax.hist(np.clip(vals, 0, hi), bins=50, color="#55A868")
        ax.axvline(np.median(vals), color="k", ls="--", lw=1, label=f"median {np.median(vals):.0f}")
        ax.set_xlabel(f"{what} length in {unit} (clipped at p99.5)")
        ax.set_ylabel("products")
        ax.legend()
    missing = f", {stats['missing_frac']:.0%} missing" if stats["missing_frac"] else ""
    fig.suptitle(f"{what.capitalize()} length ({len(present):,} products{missing})")
    atomic_savefig(fig, path)
    plt.close(fig)
    stats.update(median_chars=float(np.median(chars)), median_tokens=float(np.median(toks)))
    return stats


def plot_imbalance(counts: pd.Series, path) -> dict:
    """Every class's size, sorted; log scale when max/min > 50 (248 names: no tick labels)."""
    from atomic import atomic_savefig

    plt = _plt()
    vals = counts.sort_values(ascending=False).to_numpy()
    ratio = float(vals[0] / max(vals[-1], 1))
    log = ratio > 50
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), gridspec_kw={"width_ratios": [2, 1]})
    ax = axes[0]
    ax.bar(np.arange(len(vals)), vals, width=1.0, color="#C44E52")
    ax.set_xlabel(f"categories, largest to smallest ({len(vals)}; names in top20_categories.png)")
    ax.set_ylabel("products" + (" (log scale)" if log else ""))
    if log:
        ax.set_yscale("log")
    ax.set_title(f"Class imbalance: largest/smallest = {ratio:,.0f}x")
    ax = axes[1]
    ax.hist(vals, bins=np.logspace(0, np.log10(max(vals.max(), 2)), 30) if log else 30, color="#8172B2")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel("products per category")
    ax.set_ylabel("categories")
    ax.set_title("Distribution of class sizes")
    atomic_savefig(fig, path)
    plt.close(fig)
    return {"max_min_ratio": ratio, "log_scale": log}


def run(cfg, paths, df: Optional[pd.DataFrame] = None, info: Optional[dict] = None) -> dict:
    """Load the data, compute the EDA tables and write the 4 PNGs (skips when they exist)."""
    import data
    from project import should_skip
    from runlog import log_summary, record_note

    t0 = time.perf_counter()
    if df is None:
        df, info = data.load_dataset(cfg, paths)
    plots = [paths.plots / p for p in PLOTS]
    counts = df["category"].value_counts()
    out = {
        "info": info, "shape": df.shape, "head": df.head(5), "dtypes": df.dtypes.astype(str).to_frame("dtype"),
        "n_categories": int(counts.size), "missing": pd.DataFrame({
            "missing_or_empty": [int((df[c].isna() | (df[c].astype(str) == "")).sum()) if df[c].dtype != "category"
                                 else int(df[c].isna().sum()) for c in df.columns]}, index=df.columns),
        "top_categories": counts.head(20).rename("products").to_frame(), "plots": [str(p) for p in plots],
    }
    if should_skip(cfg.force, "step2", *plots):
        out["skipped"] = True
        return out
    plot_top_categories(counts, plots[0])
    title_stats = plot_lengths(df["product_title"], plots[1], "title")
    desc_stats = plot_lengths(df["product_description"], plots[2], "description")
    imb = plot_imbalance(counts, plots[3])
    out.update(skipped=False, title=title_stats, description=desc_stats, imbalance=imb,
               seconds=round(time.perf_counter() - t0, 1))
    if desc_stats["missing_frac"] > 0:
        record_note(paths, "missing-descriptions",
                    f"{desc_stats['missing_frac']:.1%} of products have no description"
                    + (" (the asaniczka dataset has no description column at all)" if desc_stats["missing_frac"] == 1 else "")
                    + "; missing descriptions are treated as empty strings, so the text is the title alone.")
    log_summary(paths, "Step 2 — data & EDA",
                f"{df.shape[0]:,} rows x {df.shape[1]} columns, {counts.size} categories "
                f"(largest {counts.iloc[0]:,}, smallest {counts.iloc[-1]:,}; ratio {imb['max_min_ratio']:,.0f}x); "
                f"median title {title_stats.get('median_chars', 0):.0f} chars; descriptions missing "
                f"{desc_stats['missing_frac']:.0%}. Plots: results/plots/{', '.join(PLOTS)}.")
    return out
