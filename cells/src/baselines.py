"""Step 5: baseline classifiers on TF-IDF (LogReg + GridSearchCV, calibrated LinearSVC,
MultinomialNB, RandomForest) and a Keras 3 LSTM; metrics table and saved pipelines.

Each sklearn model is saved as ONE Pipeline [TextCleaner, TF-IDF, classifier] that takes the
raw combined text `preprocess.combine_text(title, description)` and predicts category names;
the best one (validation macro-F1) is also saved as models/baseline.joblib.
Methods that can't take every row (grid search folds, RandomForest, LSTM, the final LogReg /
SVC fit) use stratified subsamples whose sizes are Config values; NB uses all of train.

    import baselines
    out = baselines.run(cfg, paths)                              # the notebook step
    table = baselines.evaluate_on_split(train_df, test_df, cfg)  # benchmarks: any contract frames
"""
from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

SKLEARN_MODELS = ("logreg", "linear_svc", "naive_bayes", "random_forest")
MODEL_FILES = {"logreg": "logreg.joblib", "linear_svc": "linear_svc.joblib",
               "naive_bayes": "naive_bayes.joblib", "random_forest": "random_forest.joblib"}
METRIC_COLUMNS = ["model", "accuracy", "precision_macro", "recall_macro", "f1_macro", "precision_weighted",
                  "recall_weighted", "f1_weighted", "val_accuracy", "val_f1_macro", "train_seconds",
                  "train_rows", "n_test", "notes"]


def metrics(y_true, y_pred) -> dict:
    out = {"accuracy": float(accuracy_score(y_true, y_pred))}
    for avg in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=0)
        out.update({f"precision_{avg}": float(p), f"recall_{avg}": float(r), f"f1_{avg}": float(f)})
    return out


def _subsample(y, n, seed):
    from feature_engineering import stratified_subsample

    return stratified_subsample(y, n, seed)


def fit_model(name: str, X, y: np.ndarray, cfg) -> tuple[object, dict]:
    """Fit one sklearn baseline on TF-IDF rows X with category-name labels y."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline

    t0 = time.perf_counter()
    info: dict = {"notes": ""}
    min_count = int(pd.Series(y).value_counts().min())
    with warnings.catch_warnings():
        # saga stops at logreg_max_iter on purpose (time budget); tiny classes warn in CV folds
        warnings.filterwarnings("ignore", category=UserWarning)
        from sklearn.exceptions import ConvergenceWarning
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        if name == "logreg":
            gidx = _subsample(y, cfg.gridsearch_sample, cfg.seed)
            folds = max(2, min(cfg.gridsearch_cv, int(pd.Series(y[gidx]).value_counts().min())))
            base = LogisticRegression(solver="saga", max_iter=cfg.logreg_max_iter, tol=1e-3)
            gs = GridSearchCV(base, {"C": list(cfg.gridsearch_C)}, scoring="f1_macro",
                              cv=StratifiedKFold(folds, shuffle=True, random_state=cfg.seed), refit=False, n_jobs=1)
            gs.fit(X[gidx], y[gidx])
            best_c = gs.best_params_["C"]
            fidx = _subsample(y, cfg.baseline_max_train_rows, cfg.seed)
            clf = LogisticRegression(solver="saga", C=best_c, max_iter=cfg.logreg_max_iter, tol=1e-3).fit(X[fidx], y[fidx])
            info.update(train_rows=len(fidx), best_params={"C": best_c},
                        cv_results={str(c): round(float(s), 4) for c, s in
                                    zip(gs.cv_results_["param_C"], gs.cv_results_["mean_test_score"])},
                        notes=f"GridSearchCV C={list(cfg.gridsearch_C)} ({folds}-fold, macro-F1) on {len(gidx):,} rows; "
                              f"best C={best_c} refit on {len(fidx):,} rows")
        elif name == "linear_svc":
            fidx = _subsample(y, cfg.baseline_max_train_rows, cfg.seed)
            clf, how = calibrated_svc(X[fidx], y[fidx], cfg)
            info.update(train_rows=len(fidx), notes=f"LinearSVC C={cfg.svc_c}, {how} on {len(fidx):,} rows")
        elif name == "naive_bayes":
            clf = MultinomialNB(alpha=cfg.nb_alpha).fit(X, y)
            info.update(train_rows=X.shape[0], notes=f"alpha={cfg.nb_alpha}, all {X.shape[0]:,} train rows")
        elif name == "random_forest":
            ridx = _subsample(y, cfg.rf_sample, cfg.seed)
            k = min(cfg.rf_select_features, X.shape[1])
            clf = Pipeline([("select", SelectKBest(chi2, k=k)),
                            ("rf", RandomForestClassifier(n_estimators=cfg.rf_n_estimators, max_depth=cfg.rf_max_depth,
                                                          min_samples_leaf=cfg.rf_min_samples_leaf,
                                                          max_leaf_nodes=cfg.rf_max_leaf_nodes, n_jobs=-1,
                                                          max_samples=min(cfg.rf_max_samples, len(ridx)),
                                                          random_state=cfg.seed))])
            clf.fit(X[ridx], y[ridx])
            info.update(train_rows=len(ridx), notes=f"{cfg.rf_n_estimators} trees, max_leaf_nodes={cfg.rf_max_leaf_nodes}, "
                        f"{k:,} chi2-selected features, {min(cfg.rf_max_samples, len(ridx)):,} bootstrap rows per tree, "
                        f"on {len(ridx):,} rows")
        else:
            raise ValueError(f"unknown baseline {name!r}; choose from {SKLEARN_MODELS}")
    info["train_seconds"] = round(time.perf_counter() - t0, 2)
    del min_count
    return clf, info


def calibrated_svc(X, y: np.ndarray, cfg, C: Optional[float] = None,
                   class_weight: Optional[str] = None) -> tuple[object, str]:
    """LinearSVC with predict_proba (top-k, LIME, the API's probabilities).

    Up to cfg.svc_holdout_calibration_rows rows, sigmoid calibration is cross-fitted (k folds
    + a final fit: k+1 fits, every row used for both). Above it, those fits cost more than
    the data gives back (200k rows x 248 classes: ~25 min on 2 cores), so the SVC is fitted
    once on all but cfg.svc_calibration_fraction of the rows and the sigmoids are fitted on
    that held-out slice, which at that size still has thousands of rows."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    C = cfg.svc_c if C is None else C
    if len(y) > cfg.svc_holdout_calibration_rows:
        from sklearn.model_selection import train_test_split

        strat = y if pd.Series(y).value_counts().min() >= 2 else None
        fit_i, cal_i = train_test_split(np.arange(len(y)), test_size=cfg.svc_calibration_fraction, stratify=strat,
                                        random_state=cfg.seed)
        cal_i = _with_every_class(cal_i, fit_i, y)
        svc = LinearSVC(C=C, class_weight=class_weight).fit(X[fit_i], y[fit_i])
        try:
            from sklearn.frozen import FrozenEstimator  # scikit-learn >= 1.6

            cal = CalibratedClassifierCV(FrozenEstimator(svc), method="sigmoid")
        except ImportError:
            cal = CalibratedClassifierCV(svc, cv="prefit", method="sigmoid")
        cal.fit(X[cal_i], y[cal_i])
        return cal, f"sigmoid-calibrated on a held-out {len(cal_i):,}-row slice (fitted on {len(fit_i):,})"
    k = min(3, int(pd.Series(y).value_counts().min()))
    if k < 2:
        return LinearSVC(C=C, class_weight=class_weight).fit(X, y), "uncalibrated (a class has 1 row)"
    cal = CalibratedClassifierCV(LinearSVC(C=C, class_weight=class_weight), cv=k, method="sigmoid", ensemble=False)
    return cal.fit(X, y), f"sigmoid-calibrated ({k}-fold)"


def _with_every_class(cal_i: np.ndarray, fit_i: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The calibration slice plus one fitting row of each class it lacks.

    sklearn calibrates a frozen classifier only on data holding all its classes (otherwise it
    fails with an IndexError); a class of 8 rows has 0.8 expected rows in a 10 % slice. Reusing
    one fitting row of such a class for calibration as well is the least harm."""
    missing = np.setdiff1d(np.unique(y[fit_i]), np.unique(y[cal_i]))
    if len(missing) == 0:
        return cal_i
    first = pd.Series(fit_i).groupby(y[fit_i]).first()
    return np.concatenate([cal_i, first.loc[missing].to_numpy()])


def make_pipeline(cfg, vectorizer, clf):
    """The saved artifact: raw combined text -> clean -> TF-IDF -> classifier (category names)."""
    from sklearn.pipeline import Pipeline

    from preprocess import TextCleaner

    return Pipeline([("clean", TextCleaner.from_config(cfg)), ("tfidf", vectorizer), ("clf", clf)])


def evaluate_on_split(train_df: pd.DataFrame, test_df: pd.DataFrame, cfg=None,
                      models: Iterable[str] = ("logreg", "linear_svc", "naive_bayes"),
                      return_pipelines: bool = False):
    """Train the TF-IDF baselines on contract frames and score them on test_df.

    Frames need product_title, category (and optionally product_description). Returns a
    metrics DataFrame (one row per model), plus {name: Pipeline} when return_pipelines.
    """
    import feature_engineering as fe
    import preprocess
    from config import Config

    cfg = cfg or Config()
    cleaner = preprocess.TextCleaner.from_config(cfg)
    def texts(df):
        return preprocess.combine_text(df["product_title"], df.get("product_description"))
    tr_text = cleaner.transform(texts(train_df))
    te_text = cleaner.transform(texts(test_df))
    vec = fe.build_vectorizer(cfg, len(train_df)).fit(tr_text)
    Xtr, Xte = vec.transform(tr_text), vec.transform(te_text)
    ytr = train_df["category"].astype(str).to_numpy(dtype=object)
    yte = test_df["category"].astype(str).to_numpy(dtype=object)
    rows, pipes = [], {}
    for name in models:
        clf, info = fit_model(name, Xtr, ytr, cfg)
        rows.append({"model": name, **metrics(yte, clf.predict(Xte)), "train_seconds": info["train_seconds"],
                     "train_rows": info["train_rows"], "n_test": len(yte), "notes": info["notes"]})
        pipes[name] = make_pipeline(cfg, vec, clf)
    table = pd.DataFrame(rows)
    return (table, pipes) if return_pipelines else table


# --- LSTM (Keras 3) -----------------------------------------------------------------------

def build_vocab(texts: Iterable[str], size: int) -> list[str]:
    from collections import Counter

    counts = Counter(w for t in texts for w in t.split())
    return [w for w, _ in counts.most_common(size)]


def encode(texts: Iterable[str], vocab: list[str], max_len: int) -> np.ndarray:
    """Token ids (0 = pad, 1 = unknown), pre-padded so the LSTM's last step sees real tokens."""
    index = {w: i + 2 for i, w in enumerate(vocab)}
    texts = list(texts)
    out = np.zeros((len(texts), max_len), dtype=np.int32)
    for r, t in enumerate(texts):
        ids = [index.get(w, 1) for w in t.split()][:max_len]
        if ids:
            out[r, max_len - len(ids):] = ids
    return out


def train_lstm(train: pd.DataFrame, val: pd.DataFrame, test: pd.DataFrame, cfg, paths, n_classes: int) -> dict:
    """Embedding -> LSTM -> softmax with class weights and early stopping; saves lstm.h5 + vocab."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from project import atomic_path, atomic_write_json

    keras.utils.set_random_seed(cfg.seed)
    t0 = time.perf_counter()
    import torch

    # one Python-level step per token on CPU: ~10x slower there than cuDNN's fused LSTM on a GPU
    n_rows = cfg.lstm_sample if torch.cuda.is_available() else cfg.lstm_cpu_sample
    idx = _subsample(train["label"].to_numpy(), n_rows, cfg.seed)
    tr = train.iloc[idx]
    vidx = _subsample(val["label"].to_numpy(), cfg.lstm_val_rows, cfg.seed)
    va = val.iloc[vidx]
    vocab = build_vocab(tr["text_clean"], cfg.lstm_vocab)
    # cleaned titles are short: padding to cfg.lstm_max_len when 95% fit in fewer tokens only
    # adds recurrent steps (the CPU LSTM runs one Python step per token)
    n_tok = tr["text_clean"].str.count(" ") + 1
    max_len = int(min(cfg.lstm_max_len, max(8, np.percentile(n_tok, 95))))
    Xtr, Xva = encode(tr["text_clean"], vocab, max_len), encode(va["text_clean"], vocab, max_len)
    ytr, yva = tr["label"].to_numpy(np.int32), va["label"].to_numpy(np.int32)
    counts = np.bincount(ytr, minlength=n_classes).astype(np.float64)
    # "balanced" weights, clipped so a class with 3 rows doesn't dominate the loss
    weights = np.clip(len(ytr) / (n_classes * np.maximum(counts, 1)), 0.05, 20.0)
    class_weight = {int(c): float(weights[c]) for c in np.flatnonzero(counts)}
    model = keras.Sequential([
        keras.Input(shape=(max_len,), dtype="int32"),
        keras.layers.Embedding(len(vocab) + 2, cfg.lstm_embed_dim),
        keras.layers.LSTM(cfg.lstm_units),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.lstm_patience, restore_best_weights=True)
    hist = model.fit(Xtr, ytr, validation_data=(Xva, yva), epochs=cfg.lstm_epochs, batch_size=cfg.lstm_batch_size,
                     class_weight=class_weight, callbacks=[stop], verbose=2)
    seconds = time.perf_counter() - t0
    with atomic_path(paths.models / "lstm.h5", suffix=".h5") as tmp:
        model.save(tmp)
    from splits import load_label_map

    id2label = {str(i): c for i, c in load_label_map(paths)[0].items()}
    atomic_write_json(paths.models / "lstm_vocab.json",
                      {"vocab": vocab, "max_len": max_len, "pad_id": 0, "unk_id": 1, "padding": "pre",
                       "input": "text_clean (preprocess.TextCleaner output)", "id2label": id2label})
    pred_va = model.predict(Xva, batch_size=1024, verbose=0).argmax(1)
    Xte = encode(test["text_clean"], vocab, max_len)
    pred_te = model.predict(Xte, batch_size=1024, verbose=0).argmax(1)
    name = lambda a: np.array([id2label[str(i)] for i in a], dtype=object)  # noqa: E731
    val_m = metrics(va["category"].astype(str).to_numpy(), name(pred_va))
    return {"model": "lstm", **metrics(test["category"].astype(str).to_numpy(), name(pred_te)),
            "val_accuracy": val_m["accuracy"], "val_f1_macro": val_m["f1_macro"],
            "train_seconds": round(seconds, 2), "train_rows": len(idx), "n_test": len(test),
            "notes": f"Keras {keras.__version__} ({keras.backend.backend()}), vocab {len(vocab):,}, max_len {max_len}, "
                     f"{len(hist.history['loss'])} epochs (early stopping on val_loss), class weights, "
                     f"on {len(idx):,} rows"}


# --- the notebook step --------------------------------------------------------------------

def artifact_files(paths, include_lstm: bool = True) -> list[Path]:
    files = [paths.results / "metrics_baselines.csv", paths.models / "baseline.joblib"]
    files += [paths.models / f for f in MODEL_FILES.values()]
    if include_lstm:
        files += [paths.models / "lstm.h5", paths.models / "lstm_vocab.json"]
    return files


def _dump(obj, path, compress: int = 0) -> None:
    import joblib

    from project import atomic_path

    with atomic_path(path) as tmp:
        joblib.dump(obj, tmp, compress=compress)


def run(cfg, paths, models: Iterable[str] = SKLEARN_MODELS, include_lstm: bool = True) -> dict:
    """Train every baseline, write results/metrics_baselines.csv and the model pipelines."""
    import joblib

    import feature_engineering as fe
    from project import atomic_to_csv, log_summary, record_note, should_skip
    from splits import load_label_map, load_split

    files = artifact_files(paths, include_lstm)
    if should_skip(cfg.force, "step5", *files):
        return {"skipped": True, "metrics": pd.read_csv(files[0]), "files": [str(f) for f in files]}
    vec = joblib.load(paths.models / "tfidf_vectorizer.joblib")
    Xtr, Xva, Xte = (fe.load_matrix(paths, s) for s in fe.SPLITS)
    cols = ["text_clean", "category", "label"]
    train, val, test = (load_split(paths, s, usecols=cols) for s in fe.SPLITS)
    ytr = train["category"].astype(str).to_numpy(dtype=object)
    yva = val["category"].astype(str).to_numpy(dtype=object)
    yte = test["category"].astype(str).to_numpy(dtype=object)
    rows, best = [], (None, -1.0)
    from tqdm.auto import tqdm

    for name in tqdm(list(models), desc="baselines", unit="model"):
        clf, info = fit_model(name, Xtr, ytr, cfg)
        vm = metrics(yva, clf.predict(Xva))
        rows.append({"model": name, **metrics(yte, clf.predict(Xte)), "val_accuracy": vm["accuracy"],
                     "val_f1_macro": vm["f1_macro"], "train_seconds": info["train_seconds"],
                     "train_rows": info["train_rows"], "n_test": len(yte), "notes": info["notes"]})
        print(f"  {name}: val macro-F1 {vm['f1_macro']:.3f}, {info['train_seconds']:.0f}s — {info['notes']}")
        pipe = make_pipeline(cfg, vec, clf)
        _dump(pipe, paths.models / MODEL_FILES[name], compress=3 if name == "random_forest" else 0)
        if vm["f1_macro"] > best[1]:
            best = (name, vm["f1_macro"])
        del clf, pipe
    best_name = best[0]
    import shutil

    from project import atomic_path

    with atomic_path(paths.models / "baseline.joblib") as tmp:
        shutil.copyfile(paths.models / MODEL_FILES[best_name], tmp)
    if include_lstm:
        rows.append(train_lstm(train, val, test, cfg, paths, n_classes=len(load_label_map(paths)[0])))
    table = pd.DataFrame(rows).reindex(columns=METRIC_COLUMNS)
    atomic_to_csv(table, files[0])
    sub = "; ".join(f"{r['model']}: {r['notes']}" for r in rows)
    record_note(paths, "baseline-subsamples", f"Models that can't take every row use stratified subsamples (sizes in "
                f"config_colab.yaml): {sub}.")
    lines = ", ".join(f"{r['model']} acc {r['accuracy']:.3f} / macro-F1 {r['f1_macro']:.3f}" for r in rows)
    log_summary(paths, "Step 5 — baselines",
                f"Test metrics: {lines}. Best sklearn model (val macro-F1): {best_name} -> models/baseline.joblib. "
                f"Training rows (stratified subsamples where a method can't take all {len(train):,}; details in "
                f"NOTES.md): " + ", ".join(f"{r['model']} {int(r['train_rows']):,}" for r in rows)
                + ". Table: results/metrics_baselines.csv.")
    return {"skipped": False, "metrics": table, "best": best_name, "files": [str(f) for f in files]}
