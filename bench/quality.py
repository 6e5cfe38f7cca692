"""Quality section: every model on every dataset, on the same split, beside the reference.

Each model is an adapter that takes the bench Split (80/20 stratified, seed 42) and returns
predicted category names plus a score matrix for top-3. Pipeline models are trained by the
notebook's own modules (cells/src: baselines, embeddings, finetune via bench/finetune_minilm.py),
so the numbers are the notebook's numbers. Expensive results are cached in bench/out/cache keyed
by dataset, model, settings and the SHA-256 of the source files that produce them: re-rendering
never re-trains, and editing a module invalidates exactly its results.
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
                      sources=(), in_quick=True)


def model_specs() -> list[ModelSpec]:
    """The reference first, then the pipeline's models (see adapters.py)."""
    import adapters

    return [REFERENCE, *adapters.pipeline_specs()]


# --- running --------------------------------------------------------------------------------

def evaluate(spec: ModelSpec, split: reference.Split, dataset: str, cache_dir: Path, use_cache: bool,
             train_if_uncached: bool = True) -> dict:
    n_rows = len(split.train) + len(split.test)
    key = cache_key(dataset, spec, n_rows)
    cache_file = cache_dir / f"{key}.json"
    code = _file_hash(spec.sources)
    if spec.precheck is not None:
        spec.precheck()
    if spec.cached and use_cache and cache_file.is_file():
        row = json.loads(cache_file.read_text(encoding="utf-8"))
        row["cached"] = True
        if row.get("code") != code:
            row["note"] = (row.get("note", "") + "; stale: trained by an earlier version of "
                           + ", ".join(spec.sources)).lstrip("; ")
        return row
    if not train_if_uncached:
        raise Unavailable("no cached result and --skip-uncached names this model (CPU time budget)")
    t0 = time.perf_counter()
    out = spec.run(split, dict(spec.settings))
    seconds = time.perf_counter() - t0
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
           "train_s": round(seconds, 1), "n_train": len(split.train), "n_test": len(split.test),
           "n_classes": len(split.classes), "status": "ok", "note": out.get("note", ""), "cached": False,
           "code": code}
    if spec.cached:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
    return row


def gaps(rows: list[dict], datasets: dict) -> list[dict]:
    """Per dataset: best pipeline model minus the reference, and whether the +3 goal is met."""
    out = []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        ok = [r for r in rows if r["dataset"] == name and r["status"] == "ok" and r.get("accuracy") is not None]
        ref = next((r for r in ok if r["key"] == "reference"), None)
        others = [r for r in ok if r["key"] != "reference"]
        if ref is None or not others:
            continue
        best = max(others, key=lambda r: r["accuracy"])
        gap = 100 * (best["accuracy"] - ref["accuracy"])
        applies = ref["accuracy"] < GOAL_APPLIES_BELOW and not datasets[name].optional
        out.append({"dataset": name, "reference_acc": ref["accuracy"], "best_model": best["model"],
                    "best_acc": best["accuracy"], "gap_points": round(gap, 2),
                    "goal": f"≥ +{GOAL_POINTS:g}" if applies else "n/a",
                    "goal_met": (gap >= GOAL_POINTS) if applies else None})
    return out


def run(quick: bool, cache_root: Path, use_cache: bool = True, datasets: list[str] | None = None,
        models_only: list[str] | None = None, skip_uncached: list[str] | None = None, log=print) -> list[dict]:
    """Returns the sections quality and quality_gap."""
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
            f"{f', {split.dropped_classes} single-row classes dropped' if split.dropped_classes else ''}")
        for spec in specs:
            t0 = time.perf_counter()
            try:
                row = evaluate(spec, split, name, cache_dir, use_cache,
                               train_if_uncached=spec.key not in (skip_uncached or []))
            except Unavailable as e:
                row = {"dataset": name, "model": spec.label, "key": spec.key, "status": "not run", "note": str(e)}
            except Exception as e:  # one model's failure must not hide every other number
                row = {"dataset": name, "model": spec.label, "key": spec.key, "status": "error",
                       "note": f"{type(e).__name__}: {e}"[:300]}
                log(traceback.format_exc())
            log(f"[quality] {name} {spec.key}: {row['status']} acc={row.get('accuracy')} "
                f"({time.perf_counter() - t0:.1f} s{', cached' if row.get('cached') else ''}) {row.get('note', '')}")
            rows.append(row)
    cols = ["dataset", "model", "accuracy", "macro_f1", "top3_accuracy", "train_s", "n_train", "n_test",
            "n_classes", "status", "note"]
    n_err = sum(r["status"] == "error" for r in rows)
    note = ("Same 80/20 stratified split (seed 42, classes with < 2 rows dropped) for every model; "
            "train_s includes feature extraction and prediction; cached results show their original time.")
    if skipped_ds:
        note += " Datasets not found: " + ", ".join(skipped_ds) + "."
    quality = section("Quality: accuracy, macro-F1, top-3 on the same split", cols, rows,
                      md_columns=["dataset", "model", "accuracy", "macro_f1", "top3_accuracy", "train_s", "status"],
                      status="error" if n_err else "ok",
                      note=note if not n_err else f"{n_err} model run(s) failed. " + note)
    gap_rows = gaps(rows, known)
    met = [g for g in gap_rows if g["goal_met"] is not None]
    figures = {"goal met (datasets where it applies)": f"{sum(g['goal_met'] for g in met)} of {len(met)}"} if met else {}
    gap = section("Best pipeline model minus the reference (accuracy points)",
                  ["dataset", "reference_acc", "best_model", "best_acc", "gap_points", "goal", "goal_met"], gap_rows,
                  note=f"Goal: the best model beats the reference by ≥ {GOAL_POINTS:g} points wherever the reference "
                       f"is below {GOAL_APPLIES_BELOW}; flipkart_999 is too small to rank models and is excluded.",
                  figures=figures)
    return [quality, gap]
