"""Quality section: every model on every dataset, on the same split, beside the reference.

Each model is an adapter that takes the bench Split (80/20 stratified, seed 42) and returns
predicted category names plus a score matrix for top-3. Pipeline models are trained by the
notebook's own modules (cells/src: baselines, lstm, embeddings, hybrid, finetune, ensemble), so
the numbers are the notebook's numbers.

Every model also gets a selection figure measured on the train split only, shown as `cv`
beside the held-out test figure: the K-fold CV mean ± std of the setting the model's own
cross-validation chose (TF-IDF models, the embedding LogReg), a K-fold CV of the whole adapter
on the train split (the reference, the forest, the hybrids), the score on a validation slice
carved from the train split (models that early-stop on it: the LSTM, the fine-tuned
transformer), or, for the ensemble, its weights chosen on the other folds' out-of-fold
probabilities and scored on each fold. The gap table picks the best pipeline model by that
figure, never by test accuracy. Expensive results are cached in bench/out/cache keyed by
dataset, model, settings and split; the code hash is kept in the row and a result trained by
other code is flagged stale.
"""
from __future__ import annotations

import hashlib
import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

import loaders
import reference
from tables import section

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "cells" / "src"
GOAL_POINTS = 3.0  # required lead of the best model over the reference, in accuracy points
GOAL_APPLIES_BELOW = 0.95  # above this the reference leaves too little headroom to ask for +3
CV_FOLDS = 3


class Unavailable(RuntimeError):
    """A model can't run here (module not written yet, no GPU for bert-base, ...): reported, not an error."""


@dataclass
class ModelSpec:
    key: str
    label: str
    run: Callable[[reference.Split, dict], dict]  # -> {"y_pred", "scores", "classes", ...}
    sources: tuple[str, ...]  # files whose content keys the cache
    settings: dict = field(default_factory=dict)
    cached: bool = False
    in_quick: bool = False
    precheck: Callable[[], None] | None = None  # raises Unavailable before any cache/budget logic
    # where its train-split figure comes from: "own" (the adapter returns out["cv"]) or "kfold"
    # (CV_FOLDS-fold CV of the adapter itself on the train split)
    cv: str = "own"
    # its scores are class probabilities (predict_proba), so its out-of-fold scores can be
    # ensemble members; the reference's are SVM margins
    probabilities: bool = True


def _file_hash(paths: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for rel in sorted(paths):
        p = REPO / rel
        h.update(rel.encode())
        h.update(p.read_bytes() if p.is_file() else b"<missing>")
    return h.hexdigest()[:16]


def cache_key(dataset: str, spec: ModelSpec, n_rows: int) -> str:
    """Keyed by dataset + model + settings + split, not by source code: a comment edited in a
    module must not cost a 15-minute retrain. The code hash is stored in the row instead and a
    result trained by different code is flagged "stale" (bench/run.py --no-cache retrains)."""
    payload = json.dumps({"dataset": dataset, "rows": n_rows, "model": spec.key, "settings": spec.settings,
                          "split": [reference.SEED, reference.TEST_SIZE]}, sort_keys=True)
    return f"{dataset}__{spec.key}__{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


# --- the reference --------------------------------------------------------------------------

def _run_reference(split: reference.Split, _settings: dict) -> dict:
    pipe = reference.reference_pipeline().fit(reference.plain_text(split.train), split.train["category"])
    scores = pipe.decision_function(reference.plain_text(split.test))
    return {"scores": scores, "classes": list(pipe.classes_)}


REFERENCE = ModelSpec("reference", "Reference: TF-IDF word+char → LinearSVC", _run_reference,
                      sources=("bench/reference.py",), in_quick=True, cv="kfold", cached=True, probabilities=False)


def cv_folds(train) -> list[tuple[np.ndarray, np.ndarray]]:
    """The CV_FOLDS stratified folds of a train split every K-fold figure of the bench uses."""
    from sklearn.model_selection import StratifiedKFold

    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        return list(StratifiedKFold(CV_FOLDS, shuffle=True, random_state=reference.SEED).split(train, train["category"]))


def kfold_cv(spec: ModelSpec, split: reference.Split) -> dict:
    """The adapter trained and scored on each fold of the train split (the test split unused).
    For a model with class probabilities, "oof" holds its out-of-fold probabilities of every train
    row on split.classes (what the ensemble row chooses its weights on)."""
    import ensemble

    train = split.train
    accs = []
    oof = np.zeros((len(train), len(split.classes)), dtype=np.float32) if spec.probabilities else None
    for tr, va in cv_folds(train):
        sub = reference.Split(train.iloc[tr].reset_index(drop=True), train.iloc[va].reset_index(drop=True),
                              sorted(train.iloc[tr]["category"].astype(str).unique()), 0)
        out = spec.run(sub, dict(spec.settings))
        if "metrics" in out:
            accs.append(float(out["metrics"]["accuracy"]))
            oof = None
            continue
        classes = np.asarray(out["classes"])
        y_pred = out.get("y_pred")
        if y_pred is None:
            y_pred = classes[np.asarray(out["scores"]).argmax(axis=1)]
        accs.append(float(np.mean(np.asarray(y_pred, dtype=object) == sub.y_test)))
        if oof is not None and out.get("scores") is not None:
            oof[va] = ensemble.align(np.asarray(out["scores"]), [str(c) for c in classes], split.classes)
        else:
            oof = None
    return {"mean": float(np.mean(accs)), "std": float(np.std(accs)), "what": f"{CV_FOLDS}-fold CV of the model on train",
            "oof": oof}


def cv_text(row: dict) -> str:
    if row.get("cv_mean") is None:
        return "–"
    std = f" ± {row['cv_std']:.3f}" if row.get("cv_std") is not None else ""
    return f"{row['cv_mean']:.3f}{std}"


def model_specs() -> list[ModelSpec]:
    """The reference first, then the pipeline's models (see adapters.py)."""
    import adapters

    return [REFERENCE, *adapters.pipeline_specs()]


# --- running --------------------------------------------------------------------------------

def evaluate(spec: ModelSpec, split: reference.Split, dataset: str, cache_dir: Path, use_cache: bool,
             train_if_uncached: bool = True, log=print) -> dict:
    n_rows = len(split.train) + len(split.test)
    key = cache_key(dataset, spec, n_rows)
    cache_file = cache_dir / f"{key}.json"
    code = _file_hash(spec.sources)
    if spec.precheck is not None:
        spec.precheck()
    if spec.cached and use_cache and cache_file.is_file():
        row = json.loads(cache_file.read_text(encoding="utf-8"))
        row["cached"] = True
        row["cv"] = cv_text(row)
        if row.get("code") != code:
            row["note"] = (row.get("note", "") + "; stale: trained by an earlier version of "
                           + ", ".join(spec.sources)).lstrip("; ")
        return row
    if not train_if_uncached:
        raise Unavailable("no cached result and --skip-uncached names this model (CPU time budget)")
    t0 = time.perf_counter()
    out = spec.run(split, {**spec.settings, "_dataset": dataset, "_cache_dir": str(cache_dir), "_key": spec.key,
                           "_log": log})
    seconds = time.perf_counter() - t0
    cv = out.get("cv")
    if spec.cv == "kfold":
        cv = kfold_cv(spec, split)
    scores = classes = None
    if "metrics" in out:  # the module scored its own predictions (same metric definitions)
        metrics = {k: (None if out["metrics"].get(k) is None else float(out["metrics"][k]))
                   for k in ("accuracy", "macro_f1", "top3_accuracy")}
    else:
        classes = np.asarray(out["classes"])
        scores = np.asarray(out["scores"], dtype=float) if out.get("scores") is not None else None
        y_pred = out.get("y_pred")
        if y_pred is None:
            y_pred = classes[scores.argmax(axis=1)]
        metrics = reference.score_predictions(split.y_test, np.asarray(y_pred, dtype=object), scores, classes)
    row = {"dataset": dataset, "model": spec.label, "key": spec.key, **metrics,
           "cv_mean": None if cv is None else cv["mean"], "cv_std": None if cv is None else cv.get("std"),
           "cv_what": None if cv is None else cv["what"], "train_s": round(seconds, 1), "n_train": len(split.train),
           "n_test": len(split.test), "n_classes": len(split.classes), "status": "ok", "note": out.get("note", ""),
           "cached": False, "code": code}
    for extra in ("curve", "epochs_curve", "weights"):
        if out.get(extra):
            row[extra] = out[extra]
    if spec.cached:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
        if cv is not None and cv.get("oof") is not None and scores is not None:
            # out-of-fold train / test probabilities: the ensemble row reuses them instead of refitting
            save_member(cache_dir, dataset, spec.key, n_rows, member(cv["oof"], scores, classes, split))
    row["cv"] = cv_text(row)
    return row


def member(oof: np.ndarray, scores, classes, split: reference.Split) -> dict:
    """An ensemble member on split.classes: kfold_cv's out-of-fold train probabilities (built on
    split.classes) beside the whole-train fit's test probabilities, aligned to the same columns."""
    import ensemble

    return {"oof": oof, "test": ensemble.align(np.asarray(scores), [str(c) for c in classes], split.classes),
            "classes": list(split.classes)}


def member_file(cache_dir: Path, dataset: str, key: str, n_rows: int) -> Path:
    return cache_dir / "members" / f"{dataset}__{key}__{n_rows}.npz"


def save_member(cache_dir: Path, dataset: str, key: str, n_rows: int, member: dict) -> None:
    path = member_file(cache_dir, dataset, key, n_rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, oof=np.asarray(member["oof"], dtype=np.float32),
                        test=np.asarray(member["test"], dtype=np.float32), classes=np.asarray(member["classes"]))


def load_member(cache_dir: Path, dataset: str, key: str, n_rows: int) -> dict | None:
    path = member_file(cache_dir, dataset, key, n_rows)
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as z:
        return {"oof": z["oof"], "test": z["test"], "classes": [str(c) for c in z["classes"]]}


def gaps(rows: list[dict], datasets: dict) -> list[dict]:
    """Per dataset: the pipeline model with the best train-split figure (cv), its test accuracy
    minus the reference's, and whether the +3 goal is met."""
    out = []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        ok = [r for r in rows if r["dataset"] == name and r["status"] == "ok" and r.get("accuracy") is not None]
        ref = next((r for r in ok if r["key"] == "reference"), None)
        others = [r for r in ok if r["key"] != "reference" and r.get("cv_mean") is not None]
        if ref is None or not others:
            continue
        best = max(others, key=lambda r: r["cv_mean"])
        gap = 100 * (best["accuracy"] - ref["accuracy"])
        applies = ref["accuracy"] < GOAL_APPLIES_BELOW and not datasets[name].optional
        out.append({"dataset": name, "reference_acc": ref["accuracy"], "best_model": best["model"],
                    "best_cv": best["cv_mean"], "best_acc": best["accuracy"], "gap_points": round(gap, 2),
                    "goal": f"≥ +{GOAL_POINTS:g}" if applies else "n/a",
                    "goal_met": (gap >= GOAL_POINTS) if applies else None})
    return out


def run(quick: bool, cache_root: Path, use_cache: bool = True, datasets: list[str] | None = None,
        models_only: list[str] | None = None, skip_uncached: list[str] | None = None,
        log=print) -> list[tuple[str, dict]]:
    """(key, section) pairs: quality and quality_gap; a run of some models or some datasets only
    (not --quick) is a re-run of their rows, quality_rerun, shown beside the full table, with its
    own gap table (quality_rerun_gap) when every model ran (the best model is chosen among all)."""
    cache_dir = cache_root / "quality"
    specs = [s for s in model_specs() if (s.in_quick or not quick) and (not models_only or s.key in models_only)]
    names = datasets or (["flipkart_999"] if quick else list(loaders.DATASETS))
    if quick and not datasets and not loaders.DATASETS["flipkart_999"].available():
        names = [loaders.DEMO.name]
    known = {**loaders.DATASETS, loaders.DEMO.name: loaders.DEMO}
    rows: list[dict] = []
    skipped_ds = []
    for name in names:
        ds = known[name]
        if not ds.available():
            skipped_ds.append(f"{name} (not found at {ds.path()})")
            continue
        split = reference.make_split(ds.load())
        log(f"[quality] {name}: {len(split.train)} train / {len(split.test)} test, {len(split.classes)} classes"
            f"{f', {split.dropped_classes} single-row classes dropped' if split.dropped_classes else ''}"
            f", {split.dropped_duplicates} duplicate rows dropped, {split.conflicting_rows} rows of titles with "
            f"several categories kept on one side")
        for spec in specs:
            t0 = time.perf_counter()
            try:
                row = evaluate(spec, split, name, cache_dir, use_cache,
                               train_if_uncached=spec.key not in (skip_uncached or []), log=log)
            except Unavailable as e:
                row = {"dataset": name, "model": spec.label, "key": spec.key, "status": "not run", "note": str(e)}
            except Exception as e:  # one model's failure must not hide every other number
                row = {"dataset": name, "model": spec.label, "key": spec.key, "status": "error",
                       "note": f"{type(e).__name__}: {e}"[:300]}
                log(traceback.format_exc())
            log(f"[quality] {name} {spec.key}: {row['status']} acc={row.get('accuracy')} "
                f"({time.perf_counter() - t0:.1f} s{', cached' if row.get('cached') else ''}) {row.get('note', '')}")
            rows.append(row)
    cols = ["dataset", "model", "cv", "cv_mean", "cv_std", "cv_what", "accuracy", "macro_f1", "top3_accuracy",
            "train_s", "n_train", "n_test", "n_classes", "status", "note"]
    n_err = sum(r["status"] == "error" for r in rows)
    note = ("Same 80/20 stratified split (seed 42, the notebook's duplicate rule: a title repeated with the same "
            "category keeps one row, a title with several categories keeps its rows on one side; then classes with "
            "< 2 rows dropped) for every model. `cv` is the "
            "accuracy measured on the train split only (3-fold CV of the chosen setting, a 10 % validation slice "
            "of train for the LSTM and the fine-tuned transformer, 3-fold CV of the weight choice for the ensemble; "
            "see `cv_what` in bench.json): the "
            "figure models and settings were chosen on; accuracy, macro_f1 and top3_accuracy are on the held-out 20 %. "
            "train_s is the run scored on test (feature extraction, the model's own grid search, prediction; not the "
            "extra K-fold runs of the cv column); cached results show their original time.")
    if skipped_ds:
        note += " Datasets not found: " + ", ".join(skipped_ds) + "."
    rerun = bool(models_only or datasets) and not quick
    title = "Quality: accuracy, macro-F1, top-3 on the same split"
    if rerun:
        on = f" on {', '.join(names)}" if datasets else ""
        title = f"Quality re-run of {', '.join(s.label for s in specs) if models_only else 'every model'}{on}"
        command = ("bench/run.py --only quality" + (f" --models {','.join(models_only)}" if models_only else "")
                   + (f" --datasets {','.join(datasets)}" if datasets else ""))
        note = (f"A run of these models or datasets only ({command}): where a model's rows differ, these supersede "
                f"its rows in the full table (each table's heading gives its date: an earlier one was trained by "
                f"earlier code, perhaps on an earlier split rule). " + note)
    quality = section(title, cols, rows,
                      md_columns=["dataset", "model", "cv", "accuracy", "macro_f1", "top3_accuracy", "train_s", "status"],
                      status="error" if n_err else "ok",
                      note=note if not n_err else f"{n_err} model run(s) failed. " + note)
    if rerun and models_only:
        return [("quality_rerun", quality)]
    if rerun:
        return [("quality_rerun", quality),
                ("quality_rerun_gap", gap_section(rows, known, title_suffix=f", re-run{on}"))]
    return [("quality", quality), ("quality_gap", gap_section(rows, known))]


def gap_section(rows: list[dict], datasets: dict, source: str = "", title_suffix: str = "") -> dict:
    """The gap table of a run of every model (`source`: where its rows came from, when not this run)."""
    gap_rows = gaps(rows, datasets)
    met = [g for g in gap_rows if g["goal_met"] is not None]
    figures = {"goal met (datasets where it applies)": f"{sum(g['goal_met'] for g in met)} of {len(met)}"} if met else {}
    return section(f"Best pipeline model minus the reference (accuracy points){title_suffix}",
                   ["dataset", "reference_acc", "best_model", "best_cv", "best_acc", "gap_points", "goal", "goal_met"],
                   gap_rows,
                   note=f"{source}The best model is the one with the best `cv` (train-split) figure, not the best test "
                        f"score. Goal: it beats the reference on test by ≥ {GOAL_POINTS:g} points wherever the "
                        f"reference is below {GOAL_APPLIES_BELOW}; flipkart_999 is too small to rank models and is "
                        f"excluded.",
                   figures=figures)
