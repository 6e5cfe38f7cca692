"""Step 4: TF-IDF features on the cleaned text (word 1-2-grams [+ char_wb 2-5-grams]).

The vectorizer is fitted on the training split only (vocabulary/idf from a stratified
subsample of at most cfg.tfidf_fit_max_rows rows), saved to models/tfidf_vectorizer.joblib,
and every split is transformed into float32 CSR matrices saved as
data/processed/tfidf_{train,val,test}.npz for the baselines. BERT [CLS] embeddings live
in embeddings.py.

    import feature_engineering
    out = feature_engineering.run(cfg, paths)
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

SPLITS = ("train", "val", "test")


def use_char_ngrams(cfg, n_train: int) -> bool:
    return bool(cfg.tfidf_char_ngrams) and n_train <= cfg.tfidf_char_max_rows


def build_vectorizer(cfg, n_train: int):
    """Word TF-IDF, plus a char_wb TF-IDF when the training set is small enough (see Config)."""
    word = TfidfVectorizer(ngram_range=(1, cfg.tfidf_ngram_max), min_df=cfg.tfidf_min_df if n_train > 20_000 else 1,
                           max_features=cfg.tfidf_max_features, sublinear_tf=cfg.tfidf_sublinear_tf,
                           dtype=np.float32, token_pattern=r"(?u)\b\w+\b")
    if not use_char_ngrams(cfg, n_train):
        return word
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(cfg.tfidf_char_ngram_min, cfg.tfidf_char_ngram_max),
                           min_df=2, max_features=cfg.tfidf_char_max_features,
                           sublinear_tf=cfg.tfidf_sublinear_tf, dtype=np.float32)
    return FeatureUnion([("word", word), ("char", char)])


def stratified_subsample(y, n: int, seed: int) -> np.ndarray:
    """Indices of a stratified subsample of size n (all indices when n >= len(y))."""
    y = np.asarray(y)
    if n >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    counts = pd.Series(y).value_counts()
    strat = y if counts.min() >= 2 and n >= len(counts) else None
    idx, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=strat, random_state=seed)
    return np.sort(idx)


def transform_in_chunks(vec, texts, chunk: int = 200_000) -> sp.csr_matrix:
    from tqdm.auto import tqdm

    texts = list(texts) if not isinstance(texts, (list, np.ndarray, pd.Series)) else texts
    parts = []
    for i in tqdm(range(0, len(texts), chunk), desc="tfidf transform", unit="chunk", leave=False):
        parts.append(vec.transform(texts[i:i + chunk]).astype(np.float32))
    return sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, 0), dtype=np.float32)


def artifact_files(paths) -> list:
    return [paths.models / "tfidf_vectorizer.joblib"] + [paths.processed / f"tfidf_{s}.npz" for s in SPLITS]


def load_matrix(paths, split: str) -> sp.csr_matrix:
    return sp.load_npz(paths.processed / f"tfidf_{split}.npz").tocsr()


def _save_npz(path, X) -> None:
    from project import atomic_path

    with atomic_path(path, suffix=".npz") as tmp:
        sp.save_npz(tmp, X, compressed=False)


def run(cfg, paths) -> dict:
    """Fit TF-IDF on train, save it, and save the transformed splits."""
    import joblib

    from project import atomic_joblib_dump, log_summary, record_note, should_skip
    from splits import load_split

    files = artifact_files(paths)
    if should_skip(cfg.force, "step4", *files):
        vec = joblib.load(files[0])
        return {"skipped": True, "n_features": _n_features(vec), "files": [str(f) for f in files]}
    t0 = time.perf_counter()
    train = load_split(paths, "train", usecols=["text_clean", "category"])
    fit_idx = stratified_subsample(train["category"].astype(str).to_numpy(), cfg.tfidf_fit_max_rows, cfg.seed)
    vec = build_vectorizer(cfg, len(train))
    vec.fit(train["text_clean"].to_numpy()[fit_idx])
    fit_seconds = time.perf_counter() - t0
    shapes = {}
    for split in SPLITS:
        texts = train["text_clean"].to_numpy() if split == "train" else \
            load_split(paths, split, usecols=["text_clean"])["text_clean"].to_numpy()
        X = transform_in_chunks(vec, texts)
        _save_npz(paths.processed / f"tfidf_{split}.npz", X)
        shapes[split] = (int(X.shape[0]), int(X.shape[1]), int(X.nnz))
        del X
    atomic_joblib_dump(vec, files[0])
    char = use_char_ngrams(cfg, len(train))
    note = (f"TF-IDF: word 1-{cfg.tfidf_ngram_max}-grams"
            + (f" + char_wb {cfg.tfidf_char_ngram_min}-{cfg.tfidf_char_ngram_max}-grams" if char else
               f" only (char n-grams off: {len(train):,} train rows > tfidf_char_max_rows={cfg.tfidf_char_max_rows:,}"
               if cfg.tfidf_char_ngrams else " only (tfidf_char_ngrams=False")
            + ("" if char else ")")
            + f", sublinear tf, float32; vocabulary/idf fitted on {len(fit_idx):,} of {len(train):,} train rows.")
    record_note(paths, "tfidf", note)
    seconds = time.perf_counter() - t0
    out = {"skipped": False, "n_features": _n_features(vec), "char_ngrams": char, "fit_rows": int(len(fit_idx)),
           "shapes": shapes, "fit_seconds": round(fit_seconds, 1), "seconds": round(seconds, 1),
           "files": [str(f) for f in files]}
    log_summary(paths, "Step 4 — TF-IDF features",
                f"{note} {out['n_features']:,} features; train matrix {shapes['train'][0]:,} x {shapes['train'][1]:,} "
                f"({shapes['train'][2]:,} non-zeros) in {seconds:.0f}s. Saved models/tfidf_vectorizer.joblib.")
    return out


def _n_features(vec) -> int:
    if isinstance(vec, FeatureUnion):
        return sum(len(t.vocabulary_) for _, t in vec.transformer_list)
    return len(vec.vocabulary_)
