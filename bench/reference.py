"""The plain reference model every result is compared with, and the shared split/metrics.

Reference: TF-IDF over word 1-2-grams plus char_wb 2-5-grams (sublinear tf) -> LinearSVC.
It is deliberately untuned: a strong, cheap, well-known text classifier. If a pipeline
model can't beat it by a clear margin, the extra cost of that model buys nothing.
Top-3 comes from the SVC's decision_function (its scores rank the classes like probabilities).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

SEED = 42
TEST_SIZE = 0.20


@dataclass
class Split:
    train: pd.DataFrame
    test: pd.DataFrame
    classes: list[str]  # sorted; score matrices use this column order
    dropped_classes: int
    dropped_duplicates: int = 0  # rows the duplicate rule dropped (data.drop_duplicates)
    conflicting_rows: int = 0  # rows of titles with several categories, each title's rows on one side

    @property
    def y_test(self) -> np.ndarray:
        return self.test["category"].to_numpy()


def make_split(df: pd.DataFrame) -> Split:
    """80/20 stratified, seed 42, after the notebook's duplicate rule and dropping classes with
    fewer than 2 rows (a class with one row can't be in both train and test).

    The duplicate rule is Step 3's (data.drop_duplicates, preprocess.grouped_split): a title
    repeated with the same category (case and spacing ignored) keeps one row, and the rows of a
    title with several categories all land on one side, so no test title is also a train title.
    Product catalogues repeat titles (variants, re-listings): kept, they sit on both sides and
    reward memorising them. Without duplicates this is exactly train_test_split(stratify=category)."""
    import data
    import preprocess

    df, dups = data.drop_duplicates(df)
    counts = df["category"].value_counts()
    keep = counts[counts >= 2].index
    kept = df[df["category"].isin(keep)].reset_index(drop=True)
    tr, te = preprocess.grouped_split(kept["category"].astype(str).to_numpy(), data.title_groups(kept["product_title"]),
                                      TEST_SIZE, SEED)
    return Split(kept.iloc[tr].reset_index(drop=True), kept.iloc[te].reset_index(drop=True),
                 sorted(keep.astype(str)), int((counts < 2).sum()), dups["dropped_duplicates"], dups["conflicting_rows"])


def plain_text(df: pd.DataFrame) -> list[str]:
    return (df["product_title"].astype(str) + " " + df["product_description"].astype(str)).str.strip().tolist()


def top_k_accuracy(y_true, scores: np.ndarray, classes, k: int = 3) -> float:
    """Share of rows whose true class is among the k highest-scored columns."""
    classes = np.asarray(classes)
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, kth=k - 1, axis=1)[:, :k]
    return float(np.mean([y in set(classes[row]) for y, row in zip(y_true, top)]))


def score_predictions(y_true, y_pred, scores: np.ndarray | None = None, classes=None) -> dict:
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "top3_accuracy": None,
    }
    if scores is not None and classes is not None:
        out["top3_accuracy"] = top_k_accuracy(y_true, scores, classes, 3)
    return out


def reference_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    return Pipeline([
        ("tfidf", FeatureUnion([
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ])),
        ("clf", LinearSVC(C=1.0, random_state=SEED)),
    ])


def run_reference(split: Split) -> dict:
    pipe = reference_pipeline().fit(plain_text(split.train), split.train["category"])
    x_test = plain_text(split.test)
    scores = pipe.decision_function(x_test)
    pred = pipe.classes_[scores.argmax(axis=1)]
    return score_predictions(split.y_test, pred, scores, pipe.classes_)
