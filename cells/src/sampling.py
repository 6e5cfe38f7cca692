"""Stratified row caps shared by the heavy steps (embeddings, fine-tuning, tuning).

Capping 1.4M rows to a budget must keep every class represented, otherwise rare
categories silently vanish from the model. `stratified_cap` keeps at least one row per
class and draws the rest proportionally.

    from sampling import stratified_cap
    small = stratified_cap(train_df, 5_000, seed=42)
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def stratified_cap(df: pd.DataFrame, n: int | None, seed: int = 42, label_col: str = "label") -> pd.DataFrame:
    """Return at most `n` rows of `df`, every class kept, proportions preserved (order: original)."""
    if n is None or n <= 0 or len(df) <= n:
        return df
    if label_col not in df.columns:
        return df.sample(n=n, random_state=seed).sort_index()
    rng = np.random.default_rng(seed)
    counts = df[label_col].value_counts()
    if len(counts) >= n:
        # More classes than rows allowed: one row from each of the n largest classes.
        keep_classes = counts.index[:n]
        picked = [rng.choice(df.index[df[label_col] == c]) for c in keep_classes]
        return df.loc[sorted(picked)]
    # One row per class is guaranteed; the remaining budget is split proportionally.
    extra = n - len(counts)
    quota = (counts - 1) / max(1, (counts - 1).sum()) * extra
    take = (np.floor(quota).astype(int) + 1).clip(upper=counts)
    short = n - int(take.sum())
    if short > 0:
        # Largest remainders first, only where the class still has rows left.
        order = (quota - np.floor(quota)).sort_values(ascending=False).index
        for c in order:
            if short == 0:
                break
            if take[c] < counts[c]:
                take[c] += 1
                short -= 1
    picked: list = []
    for c, k in take.items():
        idx = df.index[df[label_col] == c].to_numpy()
        picked.extend(rng.choice(idx, size=int(k), replace=False).tolist())
    return df.loc[sorted(picked)]
