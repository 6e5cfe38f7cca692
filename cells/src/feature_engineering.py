"""Step 4: TF-IDF features: word 1-2-grams of the cleaned text [+ char_wb 2-5-grams].

The vectorizer takes the raw combined text (`preprocess.combine_text(title, description)`) and
does its own cleaning, so the same object serves training, Step 5's cross-validation (refitted
per fold) and the saved baseline Pipelines. Word n-grams read Step 3's cleaning (the Config
toggles: numbers go, model numbers such as "gvs148dc3b" or "8kg" stay). Char n-grams read the text
cfg.tfidf_char_text says: "light" (lowercased, HTML stripped, numbers, punctuation and stop words
kept) or "cleaned" (Step 3's text). Fitted on the training split only (vocabulary/idf from a
stratified subsample of at most cfg.tfidf_fit_max_rows rows), saved to
models/tfidf_vectorizer.joblib; every split is transformed into float32 CSR matrices saved as
data/processed/tfidf_{train,val,test}.npz for the baselines. BERT [CLS] embeddings live in
embeddings.py.

    import feature_engineering
    out = feature_engineering.run(cfg, paths)
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

SPLITS = ("train", "val", "test")


def use_char_ngrams(cfg, n_train: int) -> bool:
    return bool(cfg.tfidf_char_ngrams) and n_train <= cfg.tfidf_char_max_rows


def _word_vectorizer(cfg, n_train: int) -> TfidfVectorizer:
    from preprocess import WORD_TOKEN

    return TfidfVectorizer(ngram_range=(1, cfg.tfidf_ngram_max), min_df=cfg.tfidf_min_df if n_train > 20_000 else 1,
                           max_features=cfg.tfidf_max_features, sublinear_tf=cfg.tfidf_sublinear_tf,
                           dtype=np.float32, token_pattern=WORD_TOKEN)


def _char_vectorizer(cfg) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(cfg.tfidf_char_ngram_min, cfg.tfidf_char_ngram_max),
                           min_df=2, max_features=cfg.tfidf_char_max_features,
                           sublinear_tf=cfg.tfidf_sublinear_tf, dtype=np.float32)


def cleaned_text_vectorizer(cfg, n_train: int):
    """TF-IDF of text Step 3 has already cleaned (`text_clean`): word n-grams, plus char_wb
    n-grams of the same text when the training set is small enough to afford them."""
    word = _word_vectorizer(cfg, n_train)
    if not use_char_ngrams(cfg, n_train):
        return word
    return FeatureUnion([("word", word), ("char", _char_vectorizer(cfg))])


def build_vectorizer(cfg, n_train: int):
    """Raw combined text -> TF-IDF: word n-grams of the cleaned text, plus char_wb n-grams when the
    training set is small enough to afford them (see Config)."""
    from preprocess import TextCleaner

    cleaner = TextCleaner.from_config(cfg)
    if not use_char_ngrams(cfg, n_train) or cfg.tfidf_char_text == "cleaned":
        return Pipeline([("clean", cleaner), ("tfidf", cleaned_text_vectorizer(cfg, n_train))])
    return FeatureUnion([("word", Pipeline([("clean", cleaner), ("tfidf", _word_vectorizer(cfg, n_train))])),
                         ("char", Pipeline([("clean", TextCleaner.light()), ("tfidf", _char_vectorizer(cfg))]))])


def tfidf_parts(vec) -> list[tuple[str, TfidfVectorizer]]:
    """(name, fitted TfidfVectorizer) inside a vectorizer built by build_vectorizer (any nesting)."""
    if isinstance(vec, TfidfVectorizer):
        return [("word" if vec.analyzer == "word" else "char", vec)]
    if isinstance(vec, FeatureUnion):
        return [p for _, t in vec.transformer_list for p in tfidf_parts(t)]
    if isinstance(vec, Pipeline):
        return [p for _, t in vec.steps for p in tfidf_parts(t)]
    return []


def feature_names(vec) -> np.ndarray:
    """Column names of the vectorizer's output, in column order: the terms themselves for one
    TF-IDF, prefixed by their kind when word and char n-grams sit side by side ("word:usb-c", "char: usb")."""
    parts = tfidf_parts(vec)
    if len(parts) == 1:
        return np.asarray(parts[0][1].get_feature_names_out(), dtype=object)
    return np.concatenate([np.asarray([f"{kind}:{n}" for n in t.get_feature_names_out()], dtype=object)
                           for kind, t in parts])


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
    from atomic import atomic_path

    with atomic_path(path, suffix=".npz") as tmp:
        sp.save_npz(tmp, X, compressed=False)


def run(cfg, paths) -> dict:
    """Fit TF-IDF on train, save it, and save the transformed splits."""
    import joblib

    from atomic import atomic_joblib_dump
    from project import should_skip
    from runlog import log_summary, record_note
    from splits import load_split

    files = artifact_files(paths)
    if should_skip(cfg.force, "step4", *files):
        vec = joblib.load(files[0])
        return {"skipped": True, "n_features": _n_features(vec), "files": [str(f) for f in files]}
    import preprocess
    from sampling import stratified_cap

    t0 = time.perf_counter()
    cols = ["product_title", "product_description", "category"]

    def texts(df):
        return preprocess.combine_text(df["product_title"], df["product_description"]).to_numpy(dtype=object)

    train = load_split(paths, "train", usecols=cols)
    fit_rows = stratified_cap(train, cfg.tfidf_fit_max_rows, cfg.seed, label_col="category").index
    vec = build_vectorizer(cfg, len(train))
    vec.fit(texts(train.loc[fit_rows]))
    fit_seconds = time.perf_counter() - t0
    shapes = {}
    for split in SPLITS:
        X = transform_in_chunks(vec, texts(train if split == "train" else load_split(paths, split, usecols=cols)))
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
            + (f" on the {cfg.tfidf_char_text} text" if char else "")
            + f", sublinear tf, float32; vocabulary/idf fitted on {len(fit_rows):,} of {len(train):,} train rows.")
    record_note(paths, "tfidf", note)
    seconds = time.perf_counter() - t0
    out = {"skipped": False, "n_features": _n_features(vec), "char_ngrams": char, "fit_rows": int(len(fit_rows)),
           "shapes": shapes, "fit_seconds": round(fit_seconds, 1), "seconds": round(seconds, 1),
           "files": [str(f) for f in files]}
    log_summary(paths, "Step 4 — TF-IDF features",
                f"{note} {out['n_features']:,} features; train matrix {shapes['train'][0]:,} x {shapes['train'][1]:,} "
                f"({shapes['train'][2]:,} non-zeros) in {seconds:.0f}s. Saved models/tfidf_vectorizer.joblib.")
    return out


def _n_features(vec) -> int:
    return sum(len(t.vocabulary_) for _, t in tfidf_parts(vec))
