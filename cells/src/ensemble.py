"""Step 8 (and the benchmark): a weighted average of the models' class probabilities, weights chosen on validation.

Ensemble selection (Caruana et al., 2004): start from the best single model on the validation
rows, then add, with replacement, the model whose inclusion most improves the validation score
of the averaged probabilities, for `rounds` rounds; a model's weight is its share of the picks.
Picking with replacement keeps every weight a multiple of 1/rounds and non-negative, which is
harder to overfit on a few thousand validation rows than a free weight vector. Every member's
probabilities are first laid out on one class list (a class a model never saw scores 0 there).
The test split is never used to choose.

    import ensemble
    weights, trace = ensemble.select(val_probs, y_val, classes)      # {name: (n_val, n_classes) array}
    probs = ensemble.combine(test_probs, weights)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def align(probs: np.ndarray, model_classes: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Columns of `probs` (in model_classes order) placed on `classes`; rows renormalised."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((probs.shape[0], len(classes)), dtype=np.float64)
    cols = [index[str(c)] for c in model_classes if str(c) in index]
    keep = [j for j, c in enumerate(model_classes) if str(c) in index]
    out[:, cols] = np.asarray(probs, dtype=np.float64)[:, keep]
    total = out.sum(axis=1, keepdims=True)
    return np.divide(out, total, out=np.full_like(out, 1.0 / len(classes)), where=total > 0)


def score(probs: np.ndarray, y_idx: np.ndarray, metric: str) -> float:
    """`metric` (accuracy | macro_f1) of the argmax of `probs` against class positions `y_idx`."""
    pred = probs.argmax(axis=1)
    if metric == "accuracy":
        return float(np.mean(pred == y_idx))
    from sklearn.metrics import f1_score

    return float(f1_score(y_idx, pred, average="macro", zero_division=0))


def select(val_probs: dict[str, np.ndarray], y_val: Sequence[str], classes: Sequence[str], metric: str = "accuracy",
           rounds: int = 20) -> tuple[dict[str, float], list[dict]]:
    """Weights {name: share} by ensemble selection on the validation rows (probabilities aligned to
    `classes`), and the trace of picks with the validation score after each."""
    names = list(val_probs)
    if not names:
        raise ValueError("ensemble selection needs at least one model")
    index = {c: i for i, c in enumerate(classes)}
    y_idx = np.asarray([index.get(str(y), -1) for y in y_val])
    single = {n: score(val_probs[n], y_idx, metric) for n in names}
    first = max(names, key=lambda n: (single[n], -names.index(n)))
    picks = [first]
    total = val_probs[first].copy()
    trace = [{"round": 1, "added": first, "val_score": single[first]}]
    for r in range(2, rounds + 1):
        k = len(picks)
        scored = {n: score((total + val_probs[n]) / (k + 1), y_idx, metric) for n in names}
        best = max(names, key=lambda n: (scored[n], -names.index(n)))
        picks.append(best)
        total += val_probs[best]
        trace.append({"round": r, "added": best, "val_score": scored[best]})
    # the prefix of picks with the best validation score (later picks may only add noise)
    stop = max(range(len(trace)), key=lambda i: (trace[i]["val_score"], -i))
    chosen = picks[: stop + 1]
    weights = {n: chosen.count(n) / len(chosen) for n in dict.fromkeys(chosen)}
    return weights, trace[: stop + 1]


def combine(probs: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The weighted average of the members' aligned probabilities."""
    out = None
    for name, w in weights.items():
        part = w * np.asarray(probs[name], dtype=np.float64)
        out = part if out is None else out + part
    if out is None:
        raise ValueError("no ensemble members")
    return out
