"""Step 4 (BERT part): pooled [CLS] embeddings of title + description, saved as .npy.

For each split (train/val/test, each capped at cfg.embed_max_rows with a stratified
cap, because 1.4M x 768 float32 is 4.3 GB) the cfg.model_name tokenizer + AutoModel
encode the texts in batches (title + description as a pair when the train split has
descriptions, the title alone otherwise: the same rule as Step 6) and the final-layer [CLS]
vectors are written atomically to data/processed/embeddings/{split}.npy (float32), with the
row labels in {split}_labels.npy and the source row numbers in {split}_rows.npy.

Size/time check against the time budget (budget.py): cfg.embed_probe_batches batches are timed
first and the rows that fit Step 4's allowance are embedded (every split cut in proportion,
stratified, never below cfg.embed_min_rows). A model that cannot embed every capped row in
that time, or fails to load or run, gives way to cfg.fallback_model_name (distilbert-base-uncased),
then cfg.cpu_model_name; each switch and cut is recorded in NOTES.md.

    import embeddings
    res = embeddings.run(cfg, paths)
"""
from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

SPLITS = ("train", "val", "test")


def load_encoder(name_or_path: str):
    from transformers import AutoModel, AutoTokenizer

    from fallback import ModelLoadError

    try:
        return AutoTokenizer.from_pretrained(name_or_path), AutoModel.from_pretrained(name_or_path)
    except Exception as exc:
        raise ModelLoadError(f"cannot load {name_or_path!r}: {type(exc).__name__}: {exc}") from exc


def embed_frame(tokenizer, model, df, batch_size: int, max_length: int, device: str, desc: str = "embed",
                pair: bool | None = None) -> np.ndarray:
    """[CLS] vectors for df's titles, with its descriptions as the second segment when `pair`
    (None: when df has any description)."""
    import torch
    from tqdm.auto import tqdm

    from finetune import uses_pairs

    titles = df["product_title"].astype(str).tolist()
    pair = uses_pairs(df) if pair is None else pair
    descs = df["product_description"].astype(str).tolist() if pair else None
    out = np.zeros((len(titles), model.config.hidden_size), dtype=np.float32)
    model.eval().to(device)
    with torch.no_grad():
        for start in tqdm(range(0, len(titles), batch_size), desc=desc):
            sl = slice(start, start + batch_size)
            enc = tokenizer(titles[sl], descs[sl] if descs else None, truncation=True, max_length=max_length,
                            padding=True, return_tensors="pt").to(device)
            # fp16 autocast roughly triples GPU throughput; the vectors are stored as float32 anyway.
            with torch.autocast("cuda", dtype=torch.float16, enabled=device == "cuda"):
                hidden = model(**enc).last_hidden_state
            out[sl] = hidden[:, 0, :].float().cpu().numpy()
    return out


def seconds_per_row(tokenizer, model, df, batch_size: int, max_length: int, device: str, batches: int,
                    pair: bool | None = None) -> float:
    """Measured embedding time per row: `batches` batches of df's rows, after one warm-up batch
    (the first pays for lazy initialisation)."""
    n = min(len(df), batch_size * (batches + 1))
    head = df.iloc[:n]
    embed_frame(tokenizer, model, head.iloc[:batch_size], batch_size, max_length, device, desc="probe warm-up",
                pair=pair)
    rest = head.iloc[batch_size:] if n > batch_size else head
    t0 = time.perf_counter()
    embed_frame(tokenizer, model, rest, batch_size, max_length, device, desc="probe", pair=pair)
    return (time.perf_counter() - t0) / max(1, len(rest))


def run(cfg, paths) -> dict[str, Any]:
    """Extract and save [CLS] embeddings for the capped splits (skips when all files exist)."""
    from pathlib import Path

    import torch

    import budget
    import fallback
    import finetune
    from atomic import atomic_path, atomic_write_json
    from project import should_skip
    from runlog import log_summary
    from sampling import stratified_cap
    from splits import load_split

    out_dir = paths.embeddings
    out_dir.mkdir(parents=True, exist_ok=True)
    meta_path = out_dir / "meta.json"
    files = [out_dir / f"{s}.npy" for s in SPLITS] + [meta_path]
    if should_skip(cfg.force, "Step 4 (BERT embeddings)", *files):
        return {**json.loads(meta_path.read_text(encoding="utf-8")), "skipped": True}
    full = {s: load_split(paths, s) for s in SPLITS}
    pair = finetune.uses_pairs(full["train"])
    frames = {s: stratified_cap(full[s], int(cfg.embed_max_rows), cfg.seed) for s in SPLITS}
    del full
    total_rows = sum(len(f) for f in frames.values())
    device = "cuda" if torch.cuda.is_available() else "cpu"
    vocab_texts = frames["train"]["product_title"].tolist() + frames["train"]["product_description"].tolist()
    models = list(dict.fromkeys([cfg.model_name, cfg.fallback_model_name, cfg.cpu_model_name]))
    plan = [{"model_name": m, "batch_size": int(cfg.embed_batch_size), "grad_accum": 1, "use_cpu": device == "cpu",
             "why": "requested model" if i == 0 else "a faster model after a failure or a too-slow measurement"}
            for i, m in enumerate(m for m in models if m)]
    b = budget.current(cfg, paths)
    with b.step("embeddings") as st:

        def attempt(settings):
            name = finetune.resolve_model(settings["model_name"], paths, vocab_texts)
            tok, model = load_encoder(name)
            bs = int(settings["batch_size"])
            per_row = seconds_per_row(tok, model, frames["train"], bs, int(cfg.max_length), device,
                                      int(cfg.embed_probe_batches), pair)
            rate = budget.per_second(1, per_row, "rows")
            st.rate(f"{Path(name).name} [CLS] embedding on {device}", rate)
            faster = models[models.index(settings["model_name"]) + 1:]
            if st.left() < total_rows * per_row and faster:
                raise fallback.TooSlowError(
                    f"{settings['model_name']} embeds {rate}: {total_rows:,} rows need ~{total_rows * per_row / 60:.1f} "
                    f"min, {st.left() / 60:.1f} min of Step 4's time budget are left")
            fit = st.rows_that_fit(per_row, cap=total_rows, minimum=int(cfg.embed_min_rows), record=False)
            used = frames
            if fit < total_rows:
                used = {s: stratified_cap(f, max(1, round(len(f) * fit / total_rows)), cfg.seed)
                        for s, f in frames.items()}
                st.cut(f"rows embedded: {sum(len(f) for f in used.values()):,} of {total_rows:,} "
                       f"({st.allowance / 60:.1f} min allowed; {rate})")
            t0 = time.time()
            arrays = {s: embed_frame(tok, model, used[s], bs, int(cfg.max_length), device, desc=f"embed {s}", pair=pair)
                      for s in SPLITS}
            return name, arrays, time.time() - t0, used

        res = fallback.run_with_fallbacks(attempt, plan, paths=paths, topic="fallbacks: Step 4 BERT embeddings")
    name, arrays, seconds, used = res.value
    for s in SPLITS:
        for suffix, arr in (("", arrays[s]), ("_labels", used[s]["label"].to_numpy(dtype=np.int64)),
                            ("_rows", used[s].index.to_numpy(dtype=np.int64))):
            with atomic_path(out_dir / f"{s}{suffix}.npy") as tmp:
                np.save(tmp, arr)
    meta = {"model_name": res.settings["model_name"], "model_path": name, "dim": int(arrays["train"].shape[1]),
            "rows": {s: int(arrays[s].shape[0]) for s in SPLITS},
            "rows_available": {s: len(frames[s]) for s in SPLITS}, "seconds": round(seconds, 1), "device": device,
            "pooling": "CLS", "max_length": int(cfg.max_length), "text_pair": bool(pair),
            "time_budget": {"allowed_seconds": round(st.allowance, 1), "cuts": list(st.cuts), "rates": dict(st.rates)},
            "fallbacks": [{"kind": h["kind"], "error": h["error"]} for h in res.history]}
    atomic_write_json(meta_path, meta)  # written last: it marks the set as complete
    log_summary(paths, "Step 4 — BERT embeddings",
                f"{res.settings['model_name']} [CLS] embeddings ({meta['dim']} dims) for "
                f"{meta['rows']} rows in {meta['seconds']} s on {device}: {out_dir}")
    return {**meta, "skipped": False, "dir": str(out_dir)}


# --- the model on the embeddings (Step 5c): [CLS] vectors -> logistic regression ------------

CLASSIFIER_FILE = "embeddings_logreg.joblib"
CLASSIFIER_NAME = "embeddings_logreg"


def fit_classifier(X: np.ndarray, y: np.ndarray, cfg) -> tuple[Any, dict[str, Any]]:
    """StandardScaler + multinomial LogisticRegression on embedding rows; C chosen by
    cfg.gridsearch_cv-fold CV (cfg.selection_metric) over cfg.embed_lr_C on the training rows."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from baselines import SKLEARN_SCORING

    t0 = time.perf_counter()
    pipe = Pipeline([("scale", StandardScaler()),
                     ("clf", LogisticRegression(max_iter=cfg.embed_lr_max_iter, random_state=cfg.seed))])
    grid = [float(c) for c in cfg.embed_lr_C]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", category=UserWarning)  # classes with fewer rows than folds
        gs = GridSearchCV(pipe, {"clf__C": grid}, scoring=SKLEARN_SCORING[cfg.selection_metric],
                          cv=StratifiedKFold(int(cfg.gridsearch_cv), shuffle=True, random_state=cfg.seed), n_jobs=1)
        gs.fit(X, y)
    best = int(gs.best_index_)
    info = {"C": grid[best], "cv_mean": float(gs.cv_results_["mean_test_score"][best]),
            "cv_std": float(gs.cv_results_["std_test_score"][best]), "train_rows": int(len(y)),
            "train_seconds": round(time.perf_counter() - t0, 2),
            "notes": f"standardised [CLS] vectors -> LogisticRegression, C={grid[best]:g} chosen by "
                     f"{cfg.gridsearch_cv}-fold CV ({cfg.selection_metric}) over {grid} on {len(y):,} rows"}
    return gs.best_estimator_, info


def train_classifier(cfg, paths) -> dict[str, Any]:
    """Fit fit_classifier on Step 4's train vectors, score it on Step 4's val/test vectors, save
    models/embeddings_logreg.joblib and add its row to results/metrics_baselines.csv (Step 8
    evaluates it there, see EmbeddingPredictor)."""
    import joblib
    import pandas as pd

    import baselines
    from evaluate import scores
    from atomic import atomic_path, atomic_to_csv
    from project import should_skip
    from runlog import log_summary
    from splits import load_label_map

    out = paths.models / CLASSIFIER_FILE
    table_path = paths.results / "metrics_baselines.csv"
    if not table_path.is_file():
        raise FileNotFoundError(f"{table_path} is missing: run Step 5 (baselines) before Step 5c")
    table = pd.read_csv(table_path)
    if CLASSIFIER_NAME in set(table["model"]) and should_skip(cfg.force, "step5c", out):
        return {"skipped": True, "metrics": table[table["model"] == CLASSIFIER_NAME]}
    meta = json.loads((paths.embeddings / "meta.json").read_text(encoding="utf-8"))
    id2label = load_label_map(paths)[0]

    def load(split):
        x = np.load(paths.embeddings / f"{split}.npy")
        labels = np.load(paths.embeddings / f"{split}_labels.npy")
        return x, np.asarray([id2label[int(i)] for i in labels], dtype=object)

    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = load("train"), load("val"), load("test")
    clf, info = fit_classifier(x_tr, y_tr, cfg)
    classes = [str(c) for c in clf.classes_]

    def score(x, y):
        probs = clf.predict_proba(x)
        return scores(y, np.asarray(classes, dtype=object)[probs.argmax(1)], probs, classes)

    vm, tm = score(x_va, y_va), score(x_te, y_te)
    with atomic_path(out) as tmp:
        joblib.dump({"pipeline": clf, "encoder": meta["model_path"], "model_name": meta["model_name"],
                     "max_length": int(meta["max_length"]), "text_pair": bool(meta.get("text_pair", False)),
                     "pooling": "CLS"}, tmp)
    note = (f"{meta['model_name']} {info['notes']}; scored on the {len(y_te):,} test rows Step 4 embedded "
            f"(of {meta.get('rows_available', {}).get('test', len(y_te)):,})")
    row = {"model": CLASSIFIER_NAME, **tm, "val_accuracy": vm["accuracy"], "val_macro_f1": vm["macro_f1"],
           "cv_mean": info["cv_mean"], "cv_std": info["cv_std"], "selected": f"C={info['C']:g}",
           "train_seconds": info["train_seconds"], "train_rows": info["train_rows"], "n_test": len(y_te), "notes": note}
    table = pd.concat([table[table["model"] != CLASSIFIER_NAME], pd.DataFrame([row])], ignore_index=True)
    atomic_to_csv(table.reindex(columns=baselines.METRIC_COLUMNS), table_path)
    log_summary(paths, "Step 5c — logistic regression on BERT embeddings",
                f"{note}: test accuracy {tm['accuracy']:.3f}, macro-F1 {tm['macro_f1']:.3f} -> models/{CLASSIFIER_FILE}")
    return {"skipped": False, "metrics": pd.DataFrame([row]), "row": row}


class EmbeddingPredictor:
    """models/embeddings_logreg.joblib for Step 8: the split rows Step 4 embedded are read from
    data/processed/embeddings/, any others are embedded with the same encoder and pooling."""

    kind = "embeddings"

    def __init__(self, paths):
        import joblib

        self.paths = paths
        saved = joblib.load(paths.models / CLASSIFIER_FILE)
        self.pipeline = saved["pipeline"]
        self.encoder, self.max_length, self.pair = saved["encoder"], saved["max_length"], saved["text_pair"]
        self.classes = [str(c) for c in self.pipeline.classes_]

    def stored_rows(self, split: str) -> dict[int, int]:
        """split row number -> row of data/processed/embeddings/<split>.npy"""
        rows = np.load(self.paths.embeddings / f"{split}_rows.npy")
        return {int(r): i for i, r in enumerate(rows)}

    def missing(self, split: str, source_rows) -> int:
        have = self.stored_rows(split)
        return sum(int(r) not in have for r in source_rows)

    def predict_proba_split(self, split: str, df) -> np.ndarray:
        """Probabilities for rows of a split; df["source_row"] holds their row numbers in <split>.csv."""
        have = self.stored_rows(split)
        stored = np.load(self.paths.embeddings / f"{split}.npy", mmap_mode="r")
        src = df["source_row"].astype(int).tolist()
        x = np.zeros((len(df), stored.shape[1]), dtype=np.float32)
        known = [i for i, r in enumerate(src) if r in have]
        if known:
            x[known] = stored[[have[src[i]] for i in known]]
        todo = [i for i, r in enumerate(src) if r not in have]
        if todo:
            import torch

            tok, model = load_encoder(self.encoder)
            device = "cuda" if torch.cuda.is_available() else "cpu"
            x[todo] = embed_frame(tok, model, df.iloc[todo], 64, self.max_length, device, desc="embed", pair=self.pair)
        return np.asarray(self.pipeline.predict_proba(x), dtype=float)
