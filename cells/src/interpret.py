"""Step 9: interpretability and error analysis on the best baseline (TF-IDF pipeline).

- Hard examples: the cfg.n_hard_examples test rows with the lowest probability for their
  true class (confident mistakes first, then uncertain hits).
- LIME (lime.lime_text) on each hard example: which words pushed the prediction; saved as
  interactive HTML and as a PNG bar chart.
- SHAP: an exact linear explainer (shap.LinearExplainer) on the TF-IDF features of the
  pipeline's linear classifier, for the predicted class only (all classes x 200k features
  would not fit in memory); PNG per example plus one HTML table.
- CSVs of cfg.n_example_predictions correct and incorrect test predictions with every
  original column plus true, predicted, confidence and top-3.
The baseline is used because it explains in seconds; LIME on BERT needs thousands of
forward passes per example. Step 9's part of the time budget (budget.py) paces the
explanations: LIME gets 60 % of it, SHAP the rest; hard examples that do not fit are listed
unexplained and NOTES.md [time budget] says how many were explained, at the measured seconds each.

    import interpret
    res = interpret.run(cfg, paths)
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Optional

import numpy as np


def predictions_frame(test, probs: np.ndarray, classes: list[str]):
    """test rows + true, predicted, confidence, p_true, top3, correct."""
    order = np.argsort(-probs, axis=1)
    index = {c: i for i, c in enumerate(classes)}
    out = test.copy()
    out["true"] = test["category"].astype(str).values
    out["predicted"] = [classes[r[0]] for r in order]
    out["confidence"] = probs[np.arange(len(probs)), order[:, 0]].round(4)
    out["p_true"] = [round(float(probs[i, index[t]]), 4) if t in index else 0.0 for i, t in enumerate(out["true"])]
    out["top3"] = ["; ".join(f"{classes[j]} ({probs[i, j]:.2f})" for j in r[:3]) for i, r in enumerate(order)]
    out["correct"] = out["true"] == out["predicted"]
    return out


def hard_examples(pred_df, n: int):
    """Lowest probability for the true class: confident mistakes first, then uncertain hits."""
    return pred_df.sort_values(["p_true", "confidence"], ascending=[True, False]).head(n)


def _linear_parts(pipeline):
    """(feature steps as one Pipeline, linear classifier, feature names) when the model ends in a linear
    classifier (nested pipelines such as SelectKBest + LogisticRegression included), else None."""
    from sklearn.pipeline import Pipeline

    steps = list(getattr(pipeline, "steps", []))
    if not steps:
        return None
    pre, clf = steps[:-1], steps[-1][1]
    while isinstance(clf, Pipeline):
        pre += list(clf.steps[:-1])
        clf = clf.steps[-1][1]
    if not hasattr(clf, "coef_") or not pre:
        return None
    import feature_engineering as fe

    names = None
    for _, step in pre:
        found = fe.feature_names(step) if fe.tfidf_parts(step) else None
        if found is not None and len(found):
            names = found  # "word:usb-c", "char: usb" (Step 4's vectorizer, any nesting)
        elif hasattr(step, "vocabulary_") and hasattr(step, "get_feature_names_out"):
            names = np.asarray(step.get_feature_names_out())
        elif names is not None and hasattr(step, "get_support"):
            names = names[step.get_support()]
    if names is None or len(names) != clf.coef_.shape[1]:
        names = np.asarray([f"feature_{i}" for i in range(clf.coef_.shape[1])])
    return Pipeline(pre), clf, names


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name)[:40]


def lime_explain(predictor, rows, out_dir: Path, num_samples: int, seed: int, st=None,
                 share: float = 1.0) -> list[dict[str, Any]]:
    """LIME on each row; with a budget step `st`, only as many rows as fit `share` of its time left."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from lime.lime_text import LimeTextExplainer
    from tqdm.auto import tqdm

    import inference
    from atomic import atomic_savefig, atomic_write_text

    classes = list(predictor.classes)
    explainer = LimeTextExplainer(class_names=classes, random_state=seed)
    def proba(texts):
        # LIME perturbs the combined text, so it goes in as the title with an empty description.
        texts = list(texts)
        return predictor.predict_proba(texts, [""] * len(texts))

    out = []
    todo = list(rows.iterrows())
    todo = st.paced(todo, share=share, what="LIME explanations") if st is not None else todo
    for k, (_, r) in enumerate(tqdm(todo, total=len(rows), desc="LIME")):
        text = inference.combine_text(r["product_title"], r["product_description"])
        label = classes.index(r["predicted"])
        exp = explainer.explain_instance(text, proba, num_features=10, labels=[label], num_samples=num_samples)
        base = out_dir / f"lime_{k:02d}_{_safe(r['true'])}"
        atomic_write_text(f"{base}.html", exp.as_html(labels=[label]))
        fig = exp.as_pyplot_figure(label=label)
        fig.set_size_inches(7, 4)
        fig.axes[0].set_title(f"LIME: why '{r['predicted'][:35]}' (true: '{r['true'][:35]}')", fontsize=9)
        atomic_savefig(fig, f"{base}.png")
        plt.close(fig)
        out.append({"example": k, "lime_html": f"{base}.html", "lime_png": f"{base}.png",
                    "lime_top_words": "; ".join(f"{w} ({v:+.3f})" for w, v in exp.as_list(label=label)[:5])})
    return out


def shap_explain(predictor, rows, background_texts: list[str], out_dir: Path, st=None
                 ) -> tuple[list[dict[str, Any]], str]:
    """SHAP on each row's predicted class; with a budget step `st`, only the rows that fit its time left."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import shap

    import inference
    from atomic import atomic_savefig, atomic_write_text

    parts = _linear_parts(predictor.pipeline)
    if parts is None:
        raise TypeError("the best baseline is not a linear model; SHAP's linear explainer does not apply")
    features, clf, names = parts
    background = features.transform(background_texts)
    # The whole background: shap's default masker keeps 100 rows and warns once per explainer.
    masker = shap.maskers.Independent(background, max_samples=background.shape[0])
    classes = [str(c) for c in clf.classes_]
    texts = [inference.combine_text(t, d) for t, d in zip(rows["product_title"], rows["product_description"])]
    x = features.transform(texts)
    out, table = [], []
    todo = list(rows.iterrows())
    for k, (_, r) in enumerate(st.paced(todo, what="SHAP explanations") if st is not None else todo):
        label = classes.index(r["predicted"])
        # Binary LogisticRegression has one coefficient row (for classes_[1]).
        coef = clf.coef_[label] if clf.coef_.shape[0] > 1 else (clf.coef_[0] if label == 1 else -clf.coef_[0])
        icpt = clf.intercept_[label] if clf.coef_.shape[0] > 1 else 0.0
        explainer = shap.LinearExplainer((coef, icpt), masker)
        sv = np.asarray(explainer.shap_values(x[k]))[0]
        top = np.argsort(-np.abs(sv))[:12]
        top = top[np.abs(sv[top]) > 0]
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.barh(range(len(top))[::-1], sv[top], color=["#d62728" if v > 0 else "#1f77b4" for v in sv[top]])
        ax.set_yticks(range(len(top))[::-1], [names[i] for i in top], fontsize=8)
        ax.set_xlabel(f"SHAP value for '{r['predicted'][:40]}' (log-odds)")
        ax.set_title(f"SHAP: true '{r['true'][:35]}', predicted '{r['predicted'][:35]}'", fontsize=9)
        base = out_dir / f"shap_{k:02d}_{_safe(r['true'])}"
        atomic_savefig(fig, f"{base}.png")
        plt.close(fig)
        words = "; ".join(f"{names[i]} ({sv[i]:+.3f})" for i in top[:5])
        out.append({"example": k, "shap_png": f"{base}.png", "shap_top_features": words})
        table.append(f"<tr><td>{k}</td><td>{html.escape(r['product_title'][:120])}</td><td>{html.escape(r['true'])}"
                     f"</td><td>{html.escape(r['predicted'])}</td><td>{r['confidence']:.2f}</td>"
                     f"<td>{html.escape(words)}</td></tr>")
    page = ("<html><head><meta charset='utf-8'><title>SHAP on hard examples</title></head><body>"
            "<h2>SHAP (linear explainer on TF-IDF features) for the hard test examples</h2>"
            "<table border='1' cellpadding='4'><tr><th>#</th><th>title</th><th>true</th><th>predicted</th>"
            "<th>confidence</th><th>top features (SHAP, predicted class)</th></tr>"
            + "".join(table) + "</table></body></html>")
    summary = out_dir / "shap_hard_examples.html"
    atomic_write_text(summary, page)
    return out, str(summary)


def run(cfg, paths, model: str = "baseline") -> dict[str, Any]:
    """Explain hard test examples (LIME + SHAP) and save correct/incorrect prediction CSVs."""
    import pandas as pd

    import inference
    from atomic import atomic_to_csv
    from project import should_skip
    from runlog import log_summary, record_note
    from sampling import stratified_cap
    from splits import load_split

    out_dir = paths.interpretability
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / "hard_examples.csv"
    if should_skip(cfg.force, "Step 9", marker, out_dir / "correct_predictions.csv",
                   out_dir / "incorrect_predictions.csv"):
        return {"skipped": True, "dir": str(out_dir), "hard_examples": pd.read_csv(marker)}
    import budget

    run_budget = budget.current(cfg, paths)
    st = run_budget.begin("interpret")
    predictor = inference.BaselinePredictor(paths.models / "baseline.joblib") if model == "baseline" \
        else inference.BertPredictor(paths.bert_final)
    test = load_split(paths, "test")
    probs = predictor.predict_proba(test["product_title"].tolist(), test["product_description"].tolist())
    pred = predictions_frame(test, probs, list(predictor.classes))
    meta_cols = list(test.columns) + ["true", "predicted", "confidence", "top3"]
    n_ex = int(cfg.n_example_predictions)
    correct = pred[pred["correct"]].sort_values("confidence", ascending=False).head(n_ex)[meta_cols]
    incorrect = pred[~pred["correct"]].sort_values("confidence", ascending=False).head(n_ex)[meta_cols]
    atomic_to_csv(correct, out_dir / "correct_predictions.csv")
    atomic_to_csv(incorrect, out_dir / "incorrect_predictions.csv")
    hard = hard_examples(pred, int(cfg.n_hard_examples))
    notes: list[str] = []
    explained: dict[int, dict[str, Any]] = {k: {} for k in range(len(hard))}
    if model == "baseline":
        try:
            # LIME (hundreds of model calls per row) gets 60 % of what is left, SHAP the rest
            for e in lime_explain(predictor, hard, out_dir, int(cfg.lime_num_samples), int(cfg.seed), st, 0.6):
                explained[e["example"]].update(e)
        except Exception as exc:  # interpretability must not sink the run; the cause is recorded
            notes.append(f"LIME failed: {type(exc).__name__}: {exc}")
        shap_html: Optional[str] = None
        try:
            # the three columns the background needs, not all of the 1.1M training rows' columns
            train = stratified_cap(load_split(paths, "train", usecols=["product_title", "product_description", "label"]),
                                   int(cfg.shap_background_rows), cfg.seed)
            bg = [inference.combine_text(t, d) for t, d in zip(train["product_title"], train["product_description"])]
            shap_model = predictor
            if _linear_parts(predictor.pipeline) is None:
                # SHAP's exact linear explainer needs coefficients: explain the tuned LogReg
                # pipeline (same cleaning + TF-IDF) when the best baseline is not linear.
                import types

                import joblib

                logreg = paths.models / "logreg.joblib"
                if not logreg.is_file():
                    raise TypeError("the best baseline is not linear and models/logreg.joblib is missing")
                shap_model = types.SimpleNamespace(pipeline=joblib.load(logreg))
                notes.append("SHAP explains models/logreg.joblib: the best baseline is not a linear model.")
            shap_rows, shap_html = shap_explain(shap_model, hard, bg, out_dir, st)
            for e in shap_rows:
                explained[e["example"]].update(e)
        except Exception as exc:
            notes.append(f"SHAP skipped: {type(exc).__name__}: {exc}")
    else:
        notes.append("LIME/SHAP run on the TF-IDF baseline only (model='baseline'); BERT rows are listed unexplained.")
        shap_html = None
    hard_out = hard[meta_cols + ["p_true"]].reset_index(drop=True)
    extra = pd.DataFrame([explained[k] for k in range(len(hard_out))]).drop(columns=["example"], errors="ignore")
    hard_out = pd.concat([hard_out, extra], axis=1)
    run_budget.finish("interpret")
    if notes:
        record_note(paths, "interpretability", "\n".join(notes))
    atomic_to_csv(hard_out, marker)
    n_files = len(list(out_dir.glob("*.png"))) + len(list(out_dir.glob("*.html")))
    failed = {n.split(" ", 1)[0] for n in notes if " failed" in n or " skipped" in n}
    used = " and ".join(m for m in ("LIME", "SHAP") if m not in failed and model == "baseline") or "no explainer"
    log_summary(paths, "Step 9 — Interpretability",
                f"{len(hard_out)} hard test examples explained with {used} ({n_files} PNG/HTML files); "
                f"{len(correct)} correct / {len(incorrect)} incorrect predictions saved in {out_dir}.")
    return {"skipped": False, "dir": str(out_dir), "hard_examples": hard_out, "correct": correct,
            "incorrect": incorrect, "shap_html": shap_html, "notes": notes, "n_files": n_files}
