"""Step 8: evaluate the saved models on the held-out test split, and pick the best by validation.

Loads every model from disk (the best baseline models/baseline.joblib, each model listed in
results/metrics_baselines.csv whose file loads: the sklearn Pipelines, the LSTM, the hybrid, the
embedding neighbours, the tuned Pipeline of Step 7, the logistic regression on Step 4's embeddings; and the fine-tuned
models/bert_final/), scores each on a stratified cfg.ensemble_val_rows-row sample of the
validation split and on the whole test split, and writes:
- results/metrics.csv: model, accuracy, macro/weighted precision/recall/F1, top-2/top-3 accuracy,
  n_test, and the validation accuracy / macro-F1 every choice below is made on;
- an "ensemble" row: the models' probabilities averaged with weights chosen on the validation
  rows (ensemble.py), saved as models/ensemble.json;
- results/best_model.json: the model (or the ensemble) with the best validation cfg.selection_metric;
  the test figures are reported, never used to choose;
- results/classification_report_<model>.txt;
- results/plots/confusion_<model>_{raw,normalized}.png: with ~250 categories a full matrix is
  unreadable, so the plots show the cfg.n_confused_classes classes involved in the most
  errors (the full matrix is saved as CSV);
- results/plots/roc_<model>.png: one-vs-rest ROC for the cfg.n_roc_classes largest classes.
Test rows whose category never occurs in training cannot be predicted by any model: they
are counted, excluded from the metrics and recorded in NOTES.md.

    import evaluate
    res = evaluate.run(cfg, paths)
    res["metrics"]   # DataFrame, one row per model
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

import numpy as np

# The one metrics schema of every results file (metrics_baselines.csv, metrics.csv,
# quickstart_metrics.json): these names, computed by `scores`; docs/design.md lists them.
SCORE_COLUMNS = ["accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_precision",
                 "weighted_recall", "weighted_f1", "top2_accuracy", "top3_accuracy"]
METRIC_COLUMNS = ["model", *SCORE_COLUMNS, "n_test", "val_accuracy", "val_macro_f1"]
# Names the baseline step may use in metrics_baselines.csv -> models/<file>.joblib
ALIASES = {"logistic_regression": "logreg", "logisticregression": "logreg", "lr": "logreg",
           "randomforest": "random_forest", "rf": "random_forest", "multinomialnb": "naive_bayes",
           "nb": "naive_bayes", "multinomial_nb": "naive_bayes"}


def slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    return ALIASES.get(s, s)


def topk_accuracy(y_true: list[str], probs: np.ndarray, classes: list[str], k: int) -> float:
    if len(y_true) == 0:
        return float("nan")
    index = {c: i for i, c in enumerate(classes)}
    top = np.argsort(-probs, axis=1)[:, :k]
    hits = [index.get(y, -1) in row for y, row in zip(y_true, top)]
    return float(np.mean(hits))


def scores(y_true, y_pred, probs: Optional[np.ndarray] = None, classes: Optional[list[str]] = None) -> dict:
    """accuracy, macro/weighted precision, recall and F1, and (given class scores) top-2/top-3 accuracy."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    y_true, y_pred = list(y_true), list(y_pred)
    out: dict[str, float] = {"accuracy": float(accuracy_score(y_true, y_pred))}
    for avg in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=0)
        out.update({f"{avg}_precision": float(p), f"{avg}_recall": float(r), f"{avg}_f1": float(f)})
    if probs is not None and classes is not None:
        out["top2_accuracy"] = topk_accuracy(y_true, probs, list(classes), 2)
        out["top3_accuracy"] = topk_accuracy(y_true, probs, list(classes), 3)
    return out


def metrics_row(name: str, y_true: list[str], probs: np.ndarray, classes: list[str]) -> dict[str, Any]:
    y_pred = [classes[i] for i in probs.argmax(axis=1)]
    row = {"model": name, **scores(y_true, y_pred, probs, classes), "n_test": len(y_true)}
    return {k: (round(float(v), 6) if k not in ("model", "n_test") else v) for k, v in row.items()}


def most_confused(cm: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n classes with the most errors, counting both missed and wrongly predicted rows."""
    off = cm - np.diag(np.diag(cm))
    errors = off.sum(axis=0) + off.sum(axis=1)
    order = np.argsort(-errors, kind="stable")
    chosen = order[: min(n, len(order))]
    return np.sort(chosen)


def plot_confusion(cm: np.ndarray, labels: list[str], idx: np.ndarray, path: Path, normalized: bool,
                   title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from atomic import atomic_savefig

    sub = cm[np.ix_(idx, idx)].astype(float)
    if normalized:
        # Normalised by each class's full row, so a value is "share of that class's test rows".
        rows = cm[idx].sum(axis=1, keepdims=True).astype(float)
        sub = np.divide(sub, rows, out=np.zeros_like(sub), where=rows > 0)
    n = len(idx)
    size = max(5.0, 0.35 * n + 3)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    im = ax.imshow(sub, cmap="Blues", vmin=0, vmax=1 if normalized else None)
    short = [labels[i] if len(labels[i]) <= 28 else labels[i][:26] + "…" for i in idx]
    ax.set_xticks(range(n), short, rotation=90, fontsize=7)
    ax.set_yticks(range(n), short, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                v = sub[i, j]
                if v:
                    ax.text(j, i, f"{v:.2f}" if normalized else f"{int(v)}", ha="center", va="center", fontsize=6,
                            color="white" if v > (0.5 if normalized else sub.max() / 2) else "black")
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    atomic_savefig(fig, path)
    plt.close(fig)


def plot_training_curves(epochs, losses: dict[str, list], scores: dict[str, list], path, title: str) -> None:
    """A training run per epoch as a PNG: `losses` (label -> values) on the left panel, `scores`
    on the right. A series with no values (None throughout) is left out."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from atomic import atomic_savefig

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, series, ylabel in zip(axes, (losses, scores), ("loss", None)):
        for label, values in series.items():
            if any(v is not None for v in values):
                ax.plot(epochs, values, "o-", label=label)
        ax.set_xlabel("epoch")
        if ylabel:
            ax.set_ylabel(ylabel)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    atomic_savefig(fig, path)
    plt.close(fig)


def plot_roc(y_true: list[str], probs: np.ndarray, classes: list[str], n: int, path: Path, title: str) -> list[dict]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from sklearn.metrics import auc, roc_curve

    from atomic import atomic_savefig

    y = np.asarray(y_true)
    counts = {c: int((y == c).sum()) for c in classes}
    # ROC needs positives and negatives in the test set.
    candidates = [c for c in sorted(classes, key=lambda c: -counts[c]) if 0 < counts[c] < len(y)][:n]
    fig, ax = plt.subplots(figsize=(7, 6))
    out = []
    for c in candidates:
        j = classes.index(c)
        fpr, tpr, _ = roc_curve(y == c, probs[:, j])
        a = auc(fpr, tpr)
        out.append({"class": c, "auc": round(float(a), 4), "support": counts[c]})
        ax.plot(fpr, tpr, lw=1.2, label=f"{c[:30]} (AUC {a:.2f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    atomic_savefig(fig, path)
    plt.close(fig)
    return out


def load_models(paths, include_bert: bool = True) -> tuple[dict[str, Any], dict[str, str]]:
    """name -> Predictor for every model that loads; name -> error for those that don't."""
    import pandas as pd

    import inference

    models: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        models["baseline"] = inference.BaselinePredictor(paths.models / "baseline.joblib")
    except Exception as exc:
        errors["baseline"] = f"{type(exc).__name__}: {exc}"
    mb = paths.results / "metrics_baselines.csv"
    if mb.is_file():
        for name in pd.read_csv(mb)["model"].astype(str):
            key = slug(name)
            f = paths.models / f"{key}.joblib"
            if key in models:
                continue
            if key in ("lstm", "embeddings_logreg"):
                try:
                    if key == "lstm":
                        from lstm import LstmPredictor

                        models[key] = LstmPredictor(paths.models / "lstm.h5", paths.models / "lstm_vocab.json")
                    else:
                        from embeddings import EmbeddingPredictor

                        models[key] = EmbeddingPredictor(paths)
                except Exception as exc:
                    errors[key] = f"{type(exc).__name__}: {exc}"
                continue
            if not f.is_file():
                errors[key] = f"no {f.name} (only sklearn .joblib baselines are re-evaluated)"
                continue
            try:
                models[key] = inference.BaselinePredictor(f)
            except Exception as exc:
                errors[key] = f"{type(exc).__name__}: {exc}"
    if include_bert:
        try:
            models["bert"] = inference.BertPredictor(paths.bert_final)
        except Exception as exc:
            errors["bert"] = f"{type(exc).__name__}: {exc}"
    return models, errors


def known_categories(paths) -> Optional[set[str]]:
    from splits import load_label_map

    try:  # the training label set, without reading train.csv for it
        return set(load_label_map(paths)[0].values())
    except FileNotFoundError:
        return None


def class_probabilities(predictor, split: str, df) -> np.ndarray:
    """A loaded model's probabilities for rows of a split, through the input that model takes."""
    if hasattr(predictor, "predict_proba_split"):
        return predictor.predict_proba_split(split, df)
    if hasattr(predictor, "predict_proba_clean"):
        return predictor.predict_proba_clean(df["text_clean"].tolist())
    return predictor.predict_proba(df["product_title"].tolist(), df["product_description"].tolist())


def _drop_costly(cfg, models: dict[str, Any], errors: dict[str, str], frames: dict[str, Any]) -> None:
    """Without a GPU, models that must embed many rows are left to the figures of their own step."""
    import torch

    if torch.cuda.is_available():
        return
    import hybrid

    _, eval_rows = hybrid.row_caps(cfg)
    n = max(len(f) for f in frames.values())
    for name in ("hybrid", "neighbours"):  # both embed every row they score
        if name in models and eval_rows is not None and n > eval_rows:  # CPU: embedding 140k test rows takes hours
            models.pop(name)
            errors[name] = (f"not re-scored on {len(frames['test']):,} test rows without a GPU; Step 5b scored it "
                            f"on a {eval_rows:,}-row test sample (results/metrics_baselines.csv)")
    pred = models.get("embeddings_logreg")
    if pred is not None:
        missing = sum(pred.missing(s, f["source_row"]) for s, f in frames.items())
        if missing > cfg.hybrid_cpu_eval_rows:
            models.pop("embeddings_logreg")
            errors["embeddings_logreg"] = (f"{missing:,} rows Step 4 did not embed would need embedding without a GPU; "
                                           "Step 5c scored it on Step 4's rows (results/metrics_baselines.csv)")


def _best_by_validation(rows: list[dict], metric: str) -> dict:
    scored = [r for r in rows if r.get(f"val_{metric}") is not None and r.get(f"val_{metric}") == r.get(f"val_{metric}")]
    return max(scored, key=lambda r: r[f"val_{metric}"]) if scored else {}


def run(cfg, paths, models: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Evaluate every loadable model on data/processed/test.csv; write metrics, reports and plots."""
    import pandas as pd

    import ensemble
    from atomic import atomic_to_csv, atomic_write_json
    from project import should_skip
    from runlog import log_summary, record_note
    from sampling import stratified_cap
    from splits import load_label_map, load_split

    out_csv = paths.results / "metrics.csv"
    bert_ready = (paths.bert_final / "training_info.json").is_file()
    if should_skip(cfg.force, "Step 8", out_csv):
        prev = pd.read_csv(out_csv)
        if not bert_ready or "bert" in set(prev["model"]):
            return {"metrics": prev, "skipped": True, "metrics_csv": str(out_csv)}
        print("[Step 8] bert_final appeared since the last evaluation: evaluating again.")
    known = known_categories(paths)
    frames = {}
    n_unseen = 0
    for split in ("val", "test"):
        df = load_split(paths, split)
        df["source_row"] = np.arange(len(df))  # row numbers in <split>.csv (Step 4's embeddings use them)
        unseen_mask = ~df["category"].isin(known) if known is not None else pd.Series(False, index=df.index)
        if split == "test":
            n_unseen = int(unseen_mask.sum())
            if n_unseen:
                unseen = sorted(df.loc[unseen_mask, "category"].unique())
                record_note(paths, "evaluation: unseen test labels",
                            f"{n_unseen} test rows have categories never seen in training ({', '.join(unseen[:20])}"
                            f"{' …' if len(unseen) > 20 else ''}); no model can predict them, so they are excluded "
                            "from the test metrics.")
        df = df.loc[~unseen_mask].reset_index(drop=True)
        if split == "val":
            df = stratified_cap(df, int(cfg.ensemble_val_rows), cfg.seed).reset_index(drop=True)
        frames[split] = df
    test, val = frames["test"], frames["val"]
    if len(test) == 0:
        raise ValueError("no test rows left after removing categories unseen in training")
    if models is None:
        models, errors = load_models(paths)
    else:
        errors = {}
    _drop_costly(cfg, models, errors, frames)
    if errors:
        record_note(paths, "evaluation: models not evaluated",
                    "\n".join(f"- {k}: {v}" for k, v in sorted(errors.items())))
    y_true = test["category"].astype(str).tolist()
    y_val = val["category"].astype(str).tolist()
    try:
        all_classes = [c for _, c in sorted(load_label_map(paths)[0].items())]
    except FileNotFoundError:
        all_classes = sorted(set(y_true) | set(y_val))
    rows, rocs, plots = [], {}, []
    val_probs, test_probs = {}, {}
    metric = cfg.selection_metric
    for name, predictor in models.items():
        classes = list(predictor.classes)
        probs = class_probabilities(predictor, "test", test)
        vprobs = class_probabilities(predictor, "val", val) if len(val) else None
        row = metrics_row(name, y_true, probs, classes)
        if vprobs is not None:
            vs = scores(y_val, [classes[i] for i in vprobs.argmax(axis=1)])
            row.update(val_accuracy=round(vs["accuracy"], 6), val_macro_f1=round(vs["macro_f1"], 6))
            val_probs[name] = ensemble.align(vprobs, classes, all_classes)
            test_probs[name] = ensemble.align(probs, classes, all_classes)
        rows.append(row)
        _reports(cfg, paths, name, y_true, probs, classes, plots, rocs)
    ens = None
    # "baseline" is a copy of one of the other rows: it would count that model twice
    members = {k: v for k, v in val_probs.items() if k != "baseline" or len(val_probs) == 1}
    if len(members) >= 2:
        weights, trace = ensemble.select(members, y_val, all_classes, metric=metric)
        combined = ensemble.combine(test_probs, weights)
        row = metrics_row("ensemble", y_true, combined, all_classes)
        vs = scores(y_val, [all_classes[i] for i in ensemble.combine(val_probs, weights).argmax(axis=1)])
        row.update(val_accuracy=round(vs["accuracy"], 6), val_macro_f1=round(vs["macro_f1"], 6))
        rows.append(row)
        ens = {"weights": weights, "trace": trace, "metric": metric, "n_val": len(val), "classes": all_classes,
               "members": sorted(weights)}
        atomic_write_json(paths.models / "ensemble.json", ens)
        _reports(cfg, paths, "ensemble", y_true, combined, all_classes, plots, rocs)
    metrics = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    atomic_to_csv(metrics, out_csv)
    best = _best_by_validation(rows, metric)
    if best:
        atomic_write_json(paths.results / "best_model.json",
                          {"model": best["model"], "chosen_by": f"validation {metric} ({len(val):,} rows)",
                           f"val_{metric}": best[f"val_{metric}"], "test_accuracy": best["accuracy"],
                           "test_macro_f1": best["macro_f1"], "ensemble_weights": ens["weights"] if ens and
                           best["model"] == "ensemble" else None})
    lines = [f"{r['model']}: accuracy {r['accuracy']:.4f}, macro-F1 {r['macro_f1']:.4f}, top-3 {r['top3_accuracy']:.4f}"
             for r in rows]
    choice = (f" Best by validation {metric}: {best['model']} ({best[f'val_{metric}']:.4f}; test accuracy "
              f"{best['accuracy']:.4f})." if best else "")
    if ens:
        choice += " Ensemble weights (validation): " + ", ".join(f"{k} {v:.2f}" for k, v in ens["weights"].items()) + "."
    log_summary(paths, "Step 8 — Evaluation", f"{len(y_true)} test rows ({n_unseen} with unseen labels excluded). "
                + "; ".join(lines) + f".{choice} Metrics: {out_csv}")
    return {"metrics": metrics, "metrics_csv": str(out_csv), "n_test": len(y_true), "n_unseen_excluded": n_unseen,
            "n_val": len(val), "best": best.get("model"), "ensemble": ens, "plots": plots, "roc_auc": rocs,
            "not_evaluated": errors, "skipped": False}


def _reports(cfg, paths, name: str, y_true, probs, classes, plots: list, rocs: dict) -> None:
    """classification_report_<name>.txt; confusion matrices and ROC plots for the baseline, BERT and the ensemble."""
    import pandas as pd
    from sklearn.metrics import classification_report, confusion_matrix

    from atomic import atomic_to_csv, atomic_write_text

    y_pred = [classes[i] for i in probs.argmax(axis=1)]
    report = classification_report(y_true, y_pred, zero_division=0, digits=4)
    atomic_write_text(paths.results / f"classification_report_{name}.txt",
                      f"Classification report: {name} on {len(y_true)} test rows\n\n{report}")
    if name not in ("baseline", "bert", "ensemble"):
        return
    labels = sorted(set(y_true) | set(y_pred))
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    atomic_to_csv(pd.DataFrame(cm, index=labels, columns=labels), paths.results / f"confusion_matrix_{name}.csv",
                  index=True)
    idx = most_confused(cm, int(cfg.n_confused_classes))
    for norm in (False, True):
        kind = "normalized" if norm else "raw"
        p = paths.plots / f"confusion_{name}_{kind}.png"
        plot_confusion(cm, labels, idx, p, norm, f"{name}: {kind} confusion, {len(idx)} most-confused of {len(labels)} classes")
        plots.append(str(p))
    p = paths.plots / f"roc_{name}.png"
    rocs[name] = plot_roc(y_true, probs, classes, int(cfg.n_roc_classes), p,
                          f"{name}: one-vs-rest ROC, {cfg.n_roc_classes} largest classes")
    plots.append(str(p))
