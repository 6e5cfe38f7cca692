"""Step 5: baseline classifiers on TF-IDF (Logistic Regression with GridSearchCV, calibrated
LinearSVC, MultinomialNB, RandomForest) and a Keras 3 BiLSTM (lstm.py); metrics and saved pipelines.

Each sklearn model is saved as ONE Pipeline [features (feature_engineering.build_vectorizer:
cleaning + TF-IDF), classifier] that takes the raw combined text
`preprocess.combine_text(title, description)` and predicts category names; the best one by
validation cfg.selection_metric is also saved as models/baseline.joblib.

Choices are made by K-fold cross-validation on the training split only: LogReg's C, the SVC's C
and NB's alpha are each picked by GridSearchCV over the whole text Pipeline (the vectorizer is
refitted inside every fold, so no fold sees vocabulary or idf learned from its own held-out rows;
the per-fold features are cached and shared by the three grids). The chosen value's CV mean and
std are written beside the validation and test figures (results/metrics_baselines.csv).
Methods that can't take every row (the grid search, RandomForest, the final LogReg / SVC fit) use
stratified subsamples (sampling.stratified_cap) whose sizes are Config values; NB uses all of train.

    import baselines
    out = baselines.run(cfg, paths)                              # the notebook step
    table = baselines.evaluate_on_split(train_df, test_df, cfg)  # benchmarks: any contract frames
"""
from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import pandas as pd

SKLEARN_MODELS = ("logreg", "linear_svc", "naive_bayes", "random_forest")
MODEL_FILES = {"logreg": "logreg.joblib", "linear_svc": "linear_svc.joblib",
               "naive_bayes": "naive_bayes.joblib", "random_forest": "random_forest.joblib"}
# Step 5's table: the one score schema (evaluate.SCORE_COLUMNS), validation figures, the CV
# figure of the chosen setting, and how each model was trained.
METRIC_COLUMNS = ["model", "accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_precision",
                  "weighted_recall", "weighted_f1", "top2_accuracy", "top3_accuracy", "val_accuracy",
                  "val_macro_f1", "cv_mean", "cv_std", "selected", "train_seconds", "train_rows", "n_test", "notes"]
SKLEARN_SCORING = {"accuracy": "accuracy", "macro_f1": "f1_macro"}  # cfg.selection_metric -> scorer
# model -> (parameter searched by CV, Config field holding its grid)
GRIDS = {"logreg": ("C", "gridsearch_C"), "linear_svc": ("C", "svc_grid_C"), "naive_bayes": ("alpha", "nb_grid_alpha")}


def sample_rows(y, n: Optional[int], seed: int) -> np.ndarray:
    """Positions of a stratified cap of n rows (sampling.stratified_cap; every class kept)."""
    from sampling import stratified_cap

    y = np.asarray(y)
    picked = stratified_cap(pd.DataFrame({"label": y}), n, seed)
    return picked.index.to_numpy()


def estimator(name: str, cfg, **params):
    """The unfitted classifier of a baseline, every random_state set to cfg.seed."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.svm import LinearSVC

    if name == "logreg":
        return LogisticRegression(solver="saga", C=params.get("C", cfg.gridsearch_C[0]), max_iter=cfg.logreg_max_iter,
                                  tol=1e-3, random_state=cfg.seed)
    if name == "linear_svc":
        return LinearSVC(C=params.get("C", cfg.svc_c), random_state=cfg.seed)
    if name == "naive_bayes":
        return MultinomialNB(alpha=params.get("alpha", cfg.nb_alpha))
    raise ValueError(f"no grid estimator for {name!r}")


def cv_select(name: str, texts, y: np.ndarray, cfg, memory: Optional[str] = None) -> dict:
    """K-fold CV (cfg.gridsearch_cv folds, scored by cfg.selection_metric) of the whole text Pipeline
    over the model's grid, on a stratified cfg.gridsearch_sample-row sample of the training rows."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    import feature_engineering as fe

    param, grid_field = GRIDS[name]
    grid = [float(v) for v in getattr(cfg, grid_field)]
    idx = sample_rows(y, cfg.gridsearch_sample, cfg.seed)
    x_s = np.asarray(texts, dtype=object)[idx]
    y_s = np.asarray(y, dtype=object)[idx]
    pipe = Pipeline([("features", fe.build_vectorizer(cfg, len(idx))), ("clf", estimator(name, cfg))], memory=memory)
    folds = StratifiedKFold(int(cfg.gridsearch_cv), shuffle=True, random_state=cfg.seed)
    gs = GridSearchCV(pipe, {f"clf__{param}": grid}, scoring=SKLEARN_SCORING[cfg.selection_metric], cv=folds,
                      refit=False, n_jobs=1)
    gs.fit(x_s, y_s)
    best = int(gs.best_index_)
    return {"param": param, "value": float(grid[best]), "cv_mean": float(gs.cv_results_["mean_test_score"][best]),
            "cv_std": float(gs.cv_results_["std_test_score"][best]), "rows": len(idx), "folds": int(cfg.gridsearch_cv),
            "grid": {f"{v:g}": round(float(s), 4) for v, s in zip(grid, gs.cv_results_["mean_test_score"])}}


def fit_model(name: str, X, y: np.ndarray, cfg, texts=None, memory: Optional[str] = None) -> tuple[object, dict]:
    """Fit one sklearn baseline on TF-IDF rows X (category-name labels y). With `texts` (the raw
    combined texts of X's rows) the model's grid parameter is chosen by cv_select first."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.pipeline import Pipeline

    if name not in SKLEARN_MODELS:
        raise ValueError(f"unknown baseline {name!r}; choose from {SKLEARN_MODELS}")
    t0 = time.perf_counter()
    info: dict = {"notes": "", "cv_mean": None, "cv_std": None, "selected": ""}
    with warnings.catch_warnings():
        # saga stops at logreg_max_iter on purpose (time budget); classes with fewer rows than
        # folds warn in StratifiedKFold
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        params: dict = {}
        how = ""
        if name in GRIDS and texts is not None:
            sel = cv_select(name, texts, y, cfg, memory)
            params = {sel["param"]: sel["value"]}
            info.update(cv_mean=sel["cv_mean"], cv_std=sel["cv_std"], selected=f"{sel['param']}={sel['value']:g}",
                        cv=sel)
            how = (f"{sel['param']}={sel['value']:g} chosen by {sel['folds']}-fold CV ({cfg.selection_metric}) of the "
                   f"text pipeline over {sel['grid']} on {sel['rows']:,} train rows; ")
        if name == "logreg":
            fidx = sample_rows(y, cfg.baseline_max_train_rows, cfg.seed)
            clf = estimator("logreg", cfg, **params).fit(X[fidx], y[fidx])
            info.update(train_rows=len(fidx), notes=f"{how}saga, refit on {len(fidx):,} rows")
        elif name == "linear_svc":
            fidx = sample_rows(y, cfg.baseline_max_train_rows, cfg.seed)
            clf, cal = calibrated_svc(X[fidx], y[fidx], cfg, C=params.get("C"))
            info.update(train_rows=len(fidx), notes=f"{how}LinearSVC C={params.get('C', cfg.svc_c):g}, {cal} on "
                                                     f"{len(fidx):,} rows")
        elif name == "naive_bayes":
            clf = estimator("naive_bayes", cfg, **params).fit(X, y)
            info.update(train_rows=X.shape[0], notes=f"{how}alpha={params.get('alpha', cfg.nb_alpha):g}, all "
                                                      f"{X.shape[0]:,} train rows")
        else:
            ridx = sample_rows(y, cfg.rf_sample, cfg.seed)
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
    info["train_seconds"] = round(time.perf_counter() - t0, 2)
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

    def prefit_sigmoid(svc):
        try:
            from sklearn.frozen import FrozenEstimator  # scikit-learn >= 1.6

            return CalibratedClassifierCV(FrozenEstimator(svc), method="sigmoid")
        except ImportError:
            return CalibratedClassifierCV(svc, cv="prefit", method="sigmoid")

    if len(y) > cfg.svc_holdout_calibration_rows:
        from sklearn.model_selection import train_test_split

        strat = y if pd.Series(y).value_counts().min() >= 2 else None
        fit_i, cal_i = train_test_split(np.arange(len(y)), test_size=cfg.svc_calibration_fraction, stratify=strat,
                                        random_state=cfg.seed)
        cal_i = _with_every_class(cal_i, fit_i, y)
        svc = LinearSVC(C=C, class_weight=class_weight, random_state=cfg.seed).fit(X[fit_i], y[fit_i])
        cal = prefit_sigmoid(svc).fit(X[cal_i], y[cal_i])
        return cal, f"sigmoid-calibrated on a held-out {len(cal_i):,}-row slice (fitted on {len(fit_i):,})"
    k = min(3, int(pd.Series(y).value_counts().min()))
    if k < 2:
        # No fold can hold every class: the sigmoids are fitted on the training rows themselves, so
        # the probabilities are overconfident, but top-k, LIME and the API still get them.
        svc = LinearSVC(C=C, class_weight=class_weight, random_state=cfg.seed).fit(X, y)
        return prefit_sigmoid(svc).fit(X, y), "sigmoid-calibrated on its training rows (a class has 1 row)"
    cal = CalibratedClassifierCV(LinearSVC(C=C, class_weight=class_weight, random_state=cfg.seed), cv=k,
                                 method="sigmoid", ensemble=False)
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


def make_pipeline(vectorizer, clf):
    """The saved artifact: raw combined text -> cleaning + TF-IDF -> classifier (category names)."""
    from sklearn.pipeline import Pipeline

    return Pipeline([("features", vectorizer), ("clf", clf)])


def texts_of(df: pd.DataFrame) -> np.ndarray:
    """The raw combined text every baseline Pipeline takes."""
    import preprocess

    desc = df["product_description"] if "product_description" in df.columns else None
    return preprocess.combine_text(df["product_title"], desc).to_numpy(dtype=object)


def score_model(clf, X, y_true) -> dict:
    """evaluate.scores of a fitted model on feature rows X (top-k when it has predict_proba)."""
    from evaluate import scores

    if hasattr(clf, "predict_proba"):
        probs = np.asarray(clf.predict_proba(X))
        classes = [str(c) for c in clf.classes_]
        return scores(y_true, np.asarray(classes, dtype=object)[probs.argmax(1)], probs, classes)
    return scores(y_true, clf.predict(X))


def evaluate_on_split(train_df: pd.DataFrame, test_df: pd.DataFrame, cfg=None,
                      models: Iterable[str] = ("logreg", "linear_svc", "naive_bayes"),
                      return_pipelines: bool = False):
    """Train the TF-IDF baselines on contract frames (CV-selected as in Step 5) and score them on test_df.

    Frames need product_title, category (and optionally product_description). Returns a
    metrics DataFrame (one row per model), plus {name: Pipeline} when return_pipelines.
    """
    import feature_engineering as fe
    from config import Config

    cfg = cfg or Config()
    tr_text, te_text = texts_of(train_df), texts_of(test_df)
    ytr = train_df["category"].astype(str).to_numpy(dtype=object)
    yte = test_df["category"].astype(str).to_numpy(dtype=object)
    vec = fe.build_vectorizer(cfg, len(train_df)).fit(tr_text[sample_rows(ytr, cfg.tfidf_fit_max_rows, cfg.seed)])
    Xtr, Xte = vec.transform(tr_text), vec.transform(te_text)
    rows, pipes = [], {}
    with tempfile.TemporaryDirectory(prefix="cv_features_") as memory:
        for name in models:
            clf, info = fit_model(name, Xtr, ytr, cfg, texts=tr_text, memory=memory)
            rows.append({"model": name, **score_model(clf, Xte, yte), "cv_mean": info["cv_mean"],
                         "cv_std": info["cv_std"], "selected": info["selected"], "train_seconds": info["train_seconds"],
                         "train_rows": info["train_rows"], "n_test": len(yte), "notes": info["notes"]})
            pipes[name] = make_pipeline(vec, clf)
    table = pd.DataFrame(rows)
    return (table, pipes) if return_pipelines else table


# --- the notebook step --------------------------------------------------------------------

def artifact_files(paths, include_lstm: bool = True) -> list[Path]:
    files = [paths.results / "metrics_baselines.csv", paths.models / "baseline.joblib"]
    files += [paths.models / f for f in MODEL_FILES.values()]
    if include_lstm:
        files += [paths.models / "lstm.h5", paths.models / "lstm_bag.joblib", paths.models / "lstm_vocab.json",
                  paths.plots / "lstm_training_curve.png"]
    return files


def _dump(obj, path, compress: int = 0) -> None:
    import joblib

    from atomic import atomic_path

    with atomic_path(path) as tmp:
        joblib.dump(obj, tmp, compress=compress)


def run(cfg, paths, models: Iterable[str] = SKLEARN_MODELS, include_lstm: bool = True) -> dict:
    """Train every baseline, write results/metrics_baselines.csv and the model pipelines."""
    import joblib

    import feature_engineering as fe
    import lstm
    from atomic import atomic_to_csv
    from project import should_skip
    from runlog import log_summary, record_note
    from splits import load_label_map, load_split

    files = artifact_files(paths, include_lstm)
    if should_skip(cfg.force, "step5", *files):
        return {"skipped": True, "metrics": pd.read_csv(files[0]), "files": [str(f) for f in files]}
    vec = joblib.load(paths.models / "tfidf_vectorizer.joblib")
    Xtr, Xva, Xte = (fe.load_matrix(paths, s) for s in fe.SPLITS)
    cols = ["product_title", "product_description", "text_clean", "category", "label"]
    train, val, test = (load_split(paths, s, usecols=cols) for s in fe.SPLITS)
    ytr = train["category"].astype(str).to_numpy(dtype=object)
    yva = val["category"].astype(str).to_numpy(dtype=object)
    yte = test["category"].astype(str).to_numpy(dtype=object)
    rows, best = [], (None, -1.0)
    from tqdm.auto import tqdm

    metric = cfg.selection_metric
    with tempfile.TemporaryDirectory(prefix="cv_features_") as memory:
        for name in tqdm(list(models), desc="baselines", unit="model"):
            clf, info = fit_model(name, Xtr, ytr, cfg, texts=texts_of(train), memory=memory)
            vm = score_model(clf, Xva, yva)
            rows.append({"model": name, **score_model(clf, Xte, yte), "val_accuracy": vm["accuracy"],
                         "val_macro_f1": vm["macro_f1"], "cv_mean": info["cv_mean"], "cv_std": info["cv_std"],
                         "selected": info["selected"], "train_seconds": info["train_seconds"],
                         "train_rows": info["train_rows"], "n_test": len(yte), "notes": info["notes"]})
            print(f"  {name}: val {metric} {vm[metric]:.3f}, {info['train_seconds']:.0f}s — {info['notes']}")
            _dump(make_pipeline(vec, clf), paths.models / MODEL_FILES[name], compress=3 if name == "random_forest" else 0)
            if vm[metric] > best[1]:
                best = (name, vm[metric])
            del clf
    best_name = best[0]
    import shutil

    from atomic import atomic_path

    with atomic_path(paths.models / "baseline.joblib") as tmp:
        shutil.copyfile(paths.models / MODEL_FILES[best_name], tmp)
    if include_lstm:
        row = lstm.train(train, val, test, cfg, paths, n_classes=len(load_label_map(paths)[0]))
        rows.append({k: v for k, v in row.items() if k in METRIC_COLUMNS})
    table = pd.DataFrame(rows).reindex(columns=METRIC_COLUMNS)
    atomic_to_csv(table, files[0])
    sub = "; ".join(f"{r['model']}: {r['notes']}" for r in rows)
    record_note(paths, "baseline-subsamples", f"Models that can't take every row use stratified subsamples (sizes in "
                f"config_colab.yaml); grid parameters are chosen by cross-validation on the training split: {sub}.")
    lines = ", ".join(f"{r['model']} acc {r['accuracy']:.3f} / macro-F1 {r['macro_f1']:.3f}" for r in rows)
    log_summary(paths, "Step 5 — baselines",
                f"Test metrics: {lines}. Best sklearn model (validation {metric}): {best_name} -> "
                f"models/baseline.joblib. Training rows (stratified subsamples where a method can't take all "
                f"{len(train):,}; details in NOTES.md): " + ", ".join(f"{r['model']} {int(r['train_rows']):,}" for r in rows)
                + ". Table: results/metrics_baselines.csv.")
    return {"skipped": False, "metrics": table, "best": best_name, "files": [str(f) for f in files]}
