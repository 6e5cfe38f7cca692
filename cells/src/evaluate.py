"""Step 8: evaluate the saved models on the held-out test split.

Loads every model from disk (the best baseline models/baseline.joblib, each baseline
listed in results/metrics_baselines.csv whose models/<name>.joblib loads, and the
fine-tuned models/bert_final/) and writes:
- results/metrics.csv: model, accuracy, macro/weighted precision/recall/F1, top-2/top-3 accuracy;
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

METRIC_COLUMNS = ["model", "accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_precision",
                  "weighted_recall", "weighted_f1", "top2_accuracy", "top3_accuracy"]
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


def metrics_row(name: str, y_true: list[str], probs: np.ndarray, classes: list[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    y_pred = [classes[i] for i in probs.argmax(axis=1)]
    row: dict[str, Any] = {"model": name, "accuracy": accuracy_score(y_true, y_pred)}
    for avg in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=0)
        row.update({f"{avg}_precision": p, f"{avg}_recall": r, f"{avg}_f1": f})
    row["top2_accuracy"] = topk_accuracy(y_true, probs, classes, 2)
    row["top3_accuracy"] = topk_accuracy(y_true, probs, classes, 3)
    return {k: (round(float(v), 6) if k != "model" else v) for k, v in row.items()}


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

    from project import atomic_savefig

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


def plot_roc(y_true: list[str], probs: np.ndarray, classes: list[str], n: int, path: Path, title: str) -> list[dict]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from sklearn.metrics import auc, roc_curve

    from project import atomic_savefig

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


class LstmPredictor:
    """The Keras LSTM baseline (models/lstm.h5 + lstm_vocab.json); it reads the cleaned text column."""

    kind = "lstm"

    def __init__(self, model_path: Path, vocab_path: Path):
        import json
        import os

        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        meta = json.loads(Path(vocab_path).read_text(encoding="utf-8"))
        self.model = keras.models.load_model(str(model_path), compile=False)
        self.index = {w: i + 2 for i, w in enumerate(meta["vocab"])}
        self.max_len = int(meta["max_len"])
        self.unk = int(meta.get("unk_id", 1))
        self.classes = [str(meta["id2label"][str(i)]) for i in range(len(meta["id2label"]))]

    def predict_proba_clean(self, texts) -> np.ndarray:
        # Same encoding as training: word ids (0 pad, 1 unknown), truncated, pre-padded.
        x = np.zeros((len(texts), self.max_len), dtype=np.int32)
        for r, t in enumerate(texts):
            ids = [self.index.get(w, self.unk) for w in str(t).split()][: self.max_len]
            if ids:
                x[r, self.max_len - len(ids):] = ids
        return np.asarray(self.model.predict(x, batch_size=1024, verbose=0), dtype=float)


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
            if key == "lstm":
                try:
                    models[key] = LstmPredictor(paths.models / "lstm.h5", paths.models / "lstm_vocab.json")
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


def run(cfg, paths, models: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Evaluate every loadable model on data/processed/test.csv; write metrics, reports and plots."""
    import pandas as pd
    from sklearn.metrics import classification_report, confusion_matrix

    from project import atomic_to_csv, atomic_write_text, log_summary, record_note, should_skip
    from splits import load_split

    out_csv = paths.results / "metrics.csv"
    bert_ready = (paths.bert_final / "training_info.json").is_file()
    if should_skip(cfg.force, "Step 8", out_csv):
        prev = pd.read_csv(out_csv)
        if not bert_ready or "bert" in set(prev["model"]):
            return {"metrics": prev, "skipped": True, "metrics_csv": str(out_csv)}
        print("[Step 8] bert_final appeared since the last evaluation: evaluating again.")
    test = load_split(paths, "test")
    known = known_categories(paths)
    unseen_mask = ~test["category"].isin(known) if known is not None else pd.Series(False, index=test.index)
    n_unseen = int(unseen_mask.sum())
    if n_unseen:
        unseen = sorted(test.loc[unseen_mask, "category"].unique())
        record_note(paths, "evaluation: unseen test labels",
                    f"{n_unseen} test rows have categories never seen in training ({', '.join(unseen[:20])}"
                    f"{' …' if len(unseen) > 20 else ''}); no model can predict them, so they are excluded "
                    "from the test metrics.")
        test = test.loc[~unseen_mask].reset_index(drop=True)
    if len(test) == 0:
        raise ValueError("no test rows left after removing categories unseen in training")
    if models is None:
        models, errors = load_models(paths)
    else:
        errors = {}
    if "hybrid" in models:
        import hybrid

        _, eval_rows = hybrid.row_caps(cfg)
        if eval_rows is not None and len(test) > eval_rows:  # CPU: embedding 140k test rows takes hours
            models.pop("hybrid")
            errors["hybrid"] = (f"not re-scored on {len(test):,} test rows without a GPU; Step 5b scored it on a "
                                f"{eval_rows:,}-row test sample (results/metrics_baselines.csv)")
    if errors:
        record_note(paths, "evaluation: models not evaluated",
                    "\n".join(f"- {k}: {v}" for k, v in sorted(errors.items())))
    titles = test["product_title"].tolist()
    descs = test["product_description"].tolist()
    y_true = test["category"].astype(str).tolist()
    rows, rocs, plots = [], {}, []
    for name, predictor in models.items():
        probs = predictor.predict_proba_clean(test["text_clean"].tolist()) if hasattr(
            predictor, "predict_proba_clean") else predictor.predict_proba(titles, descs)
        classes = list(predictor.classes)
        rows.append(metrics_row(name, y_true, probs, classes))
        y_pred = [classes[i] for i in probs.argmax(axis=1)]
        report = classification_report(y_true, y_pred, zero_division=0, digits=4)
        atomic_write_text(paths.results / f"classification_report_{name}.txt",
                          f"Classification report: {name} on {len(y_true)} test rows\n\n{report}")
        if name not in ("baseline", "bert"):
            continue
        labels = sorted(set(y_true) | set(y_pred))
        cm = confusion_matrix(y_true, y_pred, labels=labels)
        atomic_to_csv(pd.DataFrame(cm, index=labels, columns=labels), paths.results / f"confusion_matrix_{name}.csv",
                      index=True)
        idx = most_confused(cm, int(cfg.n_confused_classes))
        for norm in (False, True):
            kind = "normalized" if norm else "raw"
            p = paths.plots / f"confusion_{name}_{kind}.png"
            plot_confusion(cm, labels, idx, p, norm,
                           f"{name}: {kind} confusion, {len(idx)} most-confused of {len(labels)} classes")
            plots.append(str(p))
        p = paths.plots / f"roc_{name}.png"
        rocs[name] = plot_roc(y_true, probs, classes, int(cfg.n_roc_classes), p,
                              f"{name}: one-vs-rest ROC, {cfg.n_roc_classes} largest classes")
        plots.append(str(p))
    metrics = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    atomic_to_csv(metrics, out_csv)
    lines = [f"{r['model']}: accuracy {r['accuracy']:.4f}, macro-F1 {r['macro_f1']:.4f}, top-3 {r['top3_accuracy']:.4f}"
             for r in rows]
    log_summary(paths, "Step 8 — Evaluation", f"{len(y_true)} test rows ({n_unseen} with unseen labels excluded). "
                + "; ".join(lines) + f". Metrics: {out_csv}")
    return {"metrics": metrics, "metrics_csv": str(out_csv), "n_test": len(y_true), "n_unseen_excluded": n_unseen,
            "plots": plots, "roc_auc": rocs, "not_evaluated": errors, "skipped": False}
