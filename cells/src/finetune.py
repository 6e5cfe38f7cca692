"""Step 6: fine-tune a BERT classifier with the Hugging Face Trainer (transformers 5 API).

Title and description go in as a tokenizer *pair*; batches are padded dynamically
(DataCollatorWithPadding) and grouped by length, which roughly halves BERT time versus
padding everything to max_length. Precision follows the GPU: fp16 below compute
capability 8 (T4), bf16 from 8. The best epoch by validation macro-F1 is kept
(load_best_model_at_end) and early stopping ends hopeless runs.

Resumable by design (Colab's Drive mount drops during long runs): checkpoints go to
models/bert_checkpoints/<model>/ and a re-run resumes from the newest *complete* one;
half-written checkpoint folders are skipped and noted. The final model + tokenizer are
written to a temp folder and renamed to models/bert_final/, so a half-written final
folder is never trusted. Failures walk the fallback chain in fallback.py
(OOM -> halve batch -> distilbert -> CPU), each switch recorded in NOTES.md.

    import finetune
    est = finetune.precheck(cfg, paths)   # times cfg.precheck_steps real steps
    out = finetune.run(cfg, paths)        # trains (or skips when bert_final is complete)
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import statistics
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

FINAL_MARKER = "training_info.json"
CHECKPOINTS_DIRNAME = "bert_checkpoints"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


# --- data ------------------------------------------------------------------------------

class PairDataset:
    """Pre-tokenised (unpadded) examples; the collator pads each batch to its longest row."""

    def __init__(self, encodings: dict[str, list], labels: Optional[list[int]] = None):
        self.encodings = encodings
        self.labels = labels
        self._n = len(next(iter(encodings.values()))) if encodings else 0

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> dict[str, Any]:
        item = {k: v[i] for k, v in self.encodings.items()}
        if self.labels is not None:
            item["labels"] = int(self.labels[i])
        return item


def encode(tokenizer, df, max_length: int, with_labels: bool = True) -> PairDataset:
    from splits import pair_texts

    titles, descs = pair_texts(df)
    # truncation=True is "longest_first": a long description cannot push the title out.
    enc = tokenizer(titles, descs, truncation=True, max_length=max_length)
    labels = df["label"].astype(int).tolist() if with_labels and "label" in df.columns else None
    return PairDataset(dict(enc), labels)


def compute_metrics(eval_pred) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    logits, labels = eval_pred.predictions, eval_pred.label_ids
    if isinstance(logits, tuple):
        logits = logits[0]
    preds = np.asarray(logits).argmax(-1)
    return {"accuracy": float(accuracy_score(labels, preds)),
            "macro_f1": float(f1_score(labels, preds, average="macro", zero_division=0))}


# --- checkpoints and the final folder ---------------------------------------------------

def model_slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name if os.path.isdir(name) else name).strip("_") or "model"


def checkpoint_root(paths, model_name: str) -> Path:
    return paths.models / CHECKPOINTS_DIRNAME / model_slug(model_name)


def _weights_ok(folder: Path) -> bool:
    for name in WEIGHT_FILES:
        f = folder / name
        if f.is_file() and f.stat().st_size > 0:
            if name.endswith(".safetensors"):
                try:  # a truncated file (killed mid-write) fails to parse its header
                    from safetensors import safe_open

                    with safe_open(str(f), framework="pt") as fh:
                        fh.keys()
                except Exception:
                    return False
            return True
    return False


def is_complete_checkpoint(folder: os.PathLike | str) -> bool:
    """A checkpoint is usable only with its trainer state and readable model weights."""
    p = Path(folder)
    state = p / "trainer_state.json"
    if not state.is_file():
        return False
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return _weights_ok(p)


def find_resume_checkpoint(ckpt_root: os.PathLike | str, paths=None) -> Optional[str]:
    """Newest complete checkpoint-N under ckpt_root; incomplete ones are skipped (and noted)."""
    root = Path(ckpt_root)
    if not root.is_dir():
        return None
    found = []
    for d in root.iterdir():
        m = re.fullmatch(r"checkpoint-(\d+)", d.name)
        if m and d.is_dir():
            found.append((int(m.group(1)), d))
    skipped = []
    for _, d in sorted(found, reverse=True):
        if is_complete_checkpoint(d):
            if skipped and paths is not None:
                from project import record_note

                record_note(paths, "resume: Step 6 half-written checkpoints",
                            f"Skipped half-written checkpoint(s) {', '.join(skipped)} (missing trainer_state.json "
                            f"or model weights); resumed from {d.name}.")
            return str(d)
        skipped.append(d.name)
    if skipped and paths is not None:
        from project import record_note

        record_note(paths, "resume: Step 6 half-written checkpoints",
                    f"Found only half-written checkpoint(s) {', '.join(skipped)}; training starts from scratch.")
    return None


def is_final_complete(final_dir: os.PathLike | str) -> bool:
    p = Path(final_dir)
    return (p / FINAL_MARKER).is_file() and (p / "config.json").is_file() and _weights_ok(p)


def save_final(trainer, tokenizer, final_dir: os.PathLike | str, info: dict[str, Any]) -> str:
    """Save model + tokenizer + info into a temp folder, then swap it in with renames."""
    final = Path(final_dir)
    tmp = final.parent / f".{final.name}.tmp"
    old = final.parent / f".{final.name}.old"
    for p in (tmp, old):
        if p.exists():
            shutil.rmtree(p)
    trainer.save_model(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    # The marker goes last: its presence means everything before it was written.
    (tmp / FINAL_MARKER).write_text(json.dumps(info, indent=2, default=str) + "\n", encoding="utf-8")
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    return str(final)


# --- Trainer construction ----------------------------------------------------------------

def load_tokenizer(name_or_path: str):
    from transformers import AutoTokenizer

    from fallback import ModelLoadError

    try:
        return AutoTokenizer.from_pretrained(name_or_path)
    except Exception as exc:  # offline hub name, typo, gated repo: all mean "try the next model"
        raise ModelLoadError(f"cannot load tokenizer {name_or_path!r}: {type(exc).__name__}: {exc}") from exc


def load_classifier(name_or_path: str, id2label: dict[int, str], label2id: dict[str, int]):
    from transformers import AutoModelForSequenceClassification

    from fallback import ModelLoadError

    try:
        # id2label/label2id in the config make pipeline("text-classification") return category names.
        return AutoModelForSequenceClassification.from_pretrained(
            name_or_path, num_labels=len(id2label), id2label={int(k): v for k, v in id2label.items()},
            label2id=dict(label2id))
    except Exception as exc:
        if "out of memory" in str(exc).lower():
            raise
        raise ModelLoadError(f"cannot load model {name_or_path!r}: {type(exc).__name__}: {exc}") from exc


def training_arguments(cfg, settings: dict[str, Any], output_dir: str, *, has_eval: bool, n_train: int,
                       device: dict[str, Any], max_steps: Optional[int] = None, report_to: str = "tensorboard",
                       save: bool = True, **overrides):
    """TrainingArguments for transformers 5 (eval_strategy, use_cpu, float warmup_steps, no logging_dir)."""
    from transformers import TrainingArguments

    import device as device_mod

    use_cpu = bool(settings.get("use_cpu")) or not device.get("cuda_available")
    prec = device_mod.precision_flags(device, use_cpu=use_cpu)
    bs, ga = int(settings["batch_size"]), int(settings.get("grad_accum", 1))
    steps_per_epoch = max(1, math.ceil(n_train / (bs * ga)))
    if has_eval and cfg.eval_steps > 0:
        strategy, every = "steps", int(cfg.eval_steps)
    else:
        strategy, every = "epoch", None
    kwargs: dict[str, Any] = dict(
        output_dir=output_dir,
        # Defaults are deliberately modest for a free Colab T4: raise num_train_epochs (cfg) to 4-5
        # and per_device_train_batch_size to 32/64 on an A100/L4 for better accuracy per hour.
        num_train_epochs=float(settings.get("num_train_epochs", cfg.num_train_epochs)),
        per_device_train_batch_size=bs,
        gradient_accumulation_steps=ga,
        per_device_eval_batch_size=int(cfg.per_device_eval_batch_size),
        learning_rate=float(settings.get("learning_rate", cfg.learning_rate)),
        weight_decay=float(settings.get("weight_decay", cfg.weight_decay)),
        warmup_steps=float(cfg.warmup_fraction),  # v5: a float in [0, 1) is a fraction of all steps
        train_sampling_strategy="group_by_length",  # v5 name of group_by_length=True
        eval_strategy=strategy if has_eval else "no",
        save_strategy=(strategy if save else "no"),
        logging_strategy="steps",
        logging_steps=max(1, min(50, steps_per_epoch // 5)),
        report_to=report_to,
        use_cpu=use_cpu,
        fp16=prec["fp16"],
        bf16=prec["bf16"],
        seed=int(cfg.seed),
        data_seed=int(cfg.seed),
        save_total_limit=2,
        dataloader_num_workers=0,
        dataloader_pin_memory=not use_cpu,
        disable_tqdm=False,
    )
    if every is not None:
        kwargs["eval_steps"] = every
        kwargs["save_steps"] = every
    if has_eval and save:
        kwargs.update(load_best_model_at_end=True, metric_for_best_model="macro_f1", greater_is_better=True)
    if max_steps is not None:
        kwargs["max_steps"] = int(max_steps)
    kwargs.update(overrides)
    return TrainingArguments(**kwargs)


def _texts_for_vocab(train_df) -> list[str]:
    cols = [c for c in ("product_title", "product_description") if c in train_df.columns]
    return [t for c in cols for t in train_df[c].astype(str).tolist()]


def build_trainer(cfg, paths, settings: dict[str, Any], train_df, eval_df, id2label, label2id, *,
                  output_dir: str, device: dict[str, Any], callbacks=None, max_steps: Optional[int] = None,
                  report_to: str = "tensorboard", save: bool = True, model_init: bool = False, **arg_overrides):
    """Tokenise, load the model and wire a Trainer. Returns (trainer, tokenizer, name_or_path)."""
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer

    import tiny_model

    name = tiny_model.resolve_one(settings["model_name"], paths, _texts_for_vocab(train_df))
    tokenizer = load_tokenizer(name)
    train_ds = encode(tokenizer, train_df, cfg.max_length)
    eval_ds = encode(tokenizer, eval_df, cfg.max_length) if eval_df is not None and len(eval_df) else None
    args = training_arguments(cfg, settings, output_dir, has_eval=eval_ds is not None, n_train=len(train_ds),
                              device=device, max_steps=max_steps, report_to=report_to, save=save, **arg_overrides)
    # Tensor cores want multiples of 8 under fp16/bf16.
    collator = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8 if (args.fp16 or args.bf16) else None)
    cbs = list(callbacks or [])
    if eval_ds is not None and save and cfg.early_stopping_patience > 0:
        cbs.append(EarlyStoppingCallback(early_stopping_patience=int(cfg.early_stopping_patience)))
    if report_to and "tensorboard" in report_to:
        # v5 removed TrainingArguments.logging_dir; the TensorBoard callback reads this variable.
        logdir = paths.bert_logs / model_slug(name)
        logdir.mkdir(parents=True, exist_ok=True)
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(logdir)
    common = dict(args=args, train_dataset=train_ds, eval_dataset=eval_ds, processing_class=tokenizer,
                  data_collator=collator, compute_metrics=compute_metrics if eval_ds is not None else None,
                  callbacks=cbs)
    if model_init:
        # hyperparameter_search needs a fresh model per trial; v5 rejects model= together with model_init=.
        trainer = Trainer(model_init=lambda *_: load_classifier(name, id2label, label2id), **common)
    else:
        trainer = Trainer(model=load_classifier(name, id2label, label2id), **common)
    return trainer, tokenizer, name


# --- the step ------------------------------------------------------------------------------

def load_finetune_data(cfg, paths):
    from sampling import stratified_cap
    from splits import load_label_map, load_split

    id2label, label2id = load_label_map(paths)
    train_df = stratified_cap(load_split(paths, "train"), cfg.finetune_train_rows, cfg.seed)
    val_df = stratified_cap(load_split(paths, "val"), cfg.finetune_eval_rows, cfg.seed)
    return train_df, val_df, id2label, label2id


def initial_plan(cfg, device: dict[str, Any]) -> list[dict[str, Any]]:
    import fallback

    return fallback.build_plan(cfg.model_name, cfg.fallback_model_name, cfg.per_device_train_batch_size,
                               on_gpu=bool(device.get("cuda_available")))


def _step_timer():
    """A TrainerCallback that records wall time per optimizer step (built lazily: no import-time torch)."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.durations: list[float] = []
            self._t0 = None

        def on_step_begin(self, args, state, control, **kw):
            self._t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if self._t0 is not None:
                self.durations.append(time.perf_counter() - self._t0)

    return StepTimer()


def _sig(x: float, digits: int = 3) -> float:
    """Round to significant digits: a tiny smoke run's estimate must not print as 0.0 min."""
    return float(f"{x:.{digits}g}")


def precheck(cfg, paths, settings: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Time cfg.precheck_steps real training steps; estimate epoch time and peak GPU memory."""
    import torch

    import device as device_mod
    import fallback

    info = device_mod.device_info()
    print(device_mod.describe(info))
    train_df, val_df, id2label, label2id = load_finetune_data(cfg, paths)
    plan = [settings] if settings else initial_plan(cfg, info)
    out_dir = paths.models / ".precheck"
    # Only a few batches are timed: tokenising all 200k training rows for that would be wasted minutes.
    n_probe = int(cfg.precheck_steps) * int(cfg.per_device_train_batch_size) * 4
    probe_df = train_df.sample(n=min(len(train_df), n_probe), random_state=int(cfg.seed))

    def attempt(s):
        import tiny_model

        # The smoke-mode tiny BERT's vocabulary must come from all training rows, not the probe sample.
        tiny_model.resolve_one(s["model_name"], paths, _texts_for_vocab(train_df))
        timer = _step_timer()
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        trainer, _, name = build_trainer(cfg, paths, s, probe_df, None, id2label, label2id, output_dir=str(out_dir),
                                         device=info, callbacks=[timer], max_steps=int(cfg.precheck_steps),
                                         report_to="none", save=False)
        trainer.train()
        return timer, name

    try:
        res = fallback.run_with_fallbacks(attempt, plan, paths=paths, topic="fallbacks: Step 6 pre-check")
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    timer, name = res.value
    s = res.settings
    # The first step pays for lazy CUDA/kernel initialisation; later steps are representative.
    steady = timer.durations[1:] or timer.durations
    step_s = statistics.median(steady) if steady else float("nan")
    steps_per_epoch = max(1, math.ceil(len(train_df) / (s["batch_size"] * s["grad_accum"])))
    epoch_s = step_s * steps_per_epoch
    peak_gb = (torch.cuda.max_memory_allocated() / 1024**3) if (torch.cuda.is_available() and not s["use_cpu"]) else None
    out = {
        "model": name, "settings": s, "steps_timed": len(timer.durations), "seconds_per_step": round(step_s, 4),
        "steps_per_epoch": steps_per_epoch, "estimated_epoch_minutes": _sig(epoch_s / 60),
        "estimated_total_minutes": _sig(epoch_s * cfg.num_train_epochs / 60),
        "peak_gpu_memory_gb": round(peak_gb, 2) if peak_gb is not None else None,
        "device": info["device"], "n_train": len(train_df),
    }
    mem = f"{out['peak_gpu_memory_gb']} GB peak GPU memory" if peak_gb is not None else "CPU run (no GPU memory)"
    print(f"Pre-check: {out['seconds_per_step']} s/step x {steps_per_epoch} steps/epoch = "
          f"~{out['estimated_epoch_minutes']} min/epoch, ~{out['estimated_total_minutes']} min for "
          f"{cfg.num_train_epochs:g} epochs; {mem}.")
    return out


def train_model(cfg, paths, settings: dict[str, Any], train_df, eval_df, id2label, label2id, *,
                device: dict[str, Any], callbacks=None, output_dir: Optional[str] = None,
                resume: bool = True, report_to: str = "tensorboard") -> dict[str, Any]:
    """One training attempt with fixed settings; resumes from the newest complete checkpoint."""
    out_dir = output_dir or str(checkpoint_root(paths, settings["model_name"]))
    trainer, tokenizer, name = build_trainer(cfg, paths, settings, train_df, eval_df, id2label, label2id,
                                             output_dir=out_dir, device=device, callbacks=callbacks,
                                             report_to=report_to)
    resume_from = find_resume_checkpoint(out_dir, paths) if resume else None
    if resume_from:
        print(f"Resuming from {resume_from}")
    t0 = time.time()
    train_output = trainer.train(resume_from_checkpoint=resume_from)
    return {"trainer": trainer, "tokenizer": tokenizer, "model_path": name, "train_output": train_output,
            "resumed_from": resume_from, "train_seconds": time.time() - t0, "output_dir": out_dir}


def run(cfg, paths, callbacks=None, plan: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
    """Fine-tune (resuming if interrupted), evaluate on validation, save models/bert_final/."""
    import device as device_mod
    import fallback
    from project import log_summary, record_note, should_skip

    final = paths.bert_final
    if should_skip(cfg.force, "Step 6", final / FINAL_MARKER) and is_final_complete(final):
        info = json.loads((final / FINAL_MARKER).read_text(encoding="utf-8"))
        return {**info, "skipped": True, "final_dir": str(final)}
    if cfg.force and is_final_complete(final):
        # A finished run is being redone on purpose: its checkpoints must not be resumed.
        shutil.rmtree(paths.models / CHECKPOINTS_DIRNAME, ignore_errors=True)
    dev = device_mod.device_info()
    print(device_mod.describe(dev))
    train_df, val_df, id2label, label2id = load_finetune_data(cfg, paths)
    plan = plan or initial_plan(cfg, dev)

    def attempt(settings):
        return train_model(cfg, paths, settings, train_df, val_df, id2label, label2id, device=dev,
                           callbacks=callbacks)

    res = fallback.run_with_fallbacks(attempt, plan, paths=paths, topic="fallbacks: Step 6 fine-tuning")
    out = res.value
    trainer = out["trainer"]
    val_metrics = trainer.evaluate() if val_df is not None and len(val_df) else {}
    s = res.settings
    info = {
        "model_name": s["model_name"], "model_path": out["model_path"], "settings": s,
        "fallbacks": [{"kind": h["kind"], "error": h["error"], "settings": h["settings"]} for h in res.history],
        "global_step": int(trainer.state.global_step), "resumed_from": out["resumed_from"],
        "train_seconds": round(out["train_seconds"], 1), "n_train": len(train_df), "n_val": len(val_df),
        "val_accuracy": val_metrics.get("eval_accuracy"), "val_macro_f1": val_metrics.get("eval_macro_f1"),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "num_train_epochs": float(trainer.args.num_train_epochs), "learning_rate": float(trainer.args.learning_rate),
        "per_device_train_batch_size": int(trainer.args.per_device_train_batch_size),
        "gradient_accumulation_steps": int(trainer.args.gradient_accumulation_steps),
        "fp16": bool(trainer.args.fp16), "bf16": bool(trainer.args.bf16), "use_cpu": bool(trainer.args.use_cpu),
        "max_length": int(cfg.max_length), "device": "cpu" if s["use_cpu"] else dev["device"],
        "tensorboard_logdir": os.environ.get("TENSORBOARD_LOGGING_DIR", str(paths.bert_logs)),
    }
    save_final(trainer, out["tokenizer"], final, info)
    if out["resumed_from"]:
        record_note(paths, "resume: Step 6 fine-tuning",
                    f"Resumed from {Path(out['resumed_from']).name}; finished at global step {info['global_step']}.")
    acc = info["val_accuracy"]
    f1 = info["val_macro_f1"]
    log_summary(paths, "Step 6 — Fine-tune BERT",
                f"{s['model_name']} fine-tuned on {len(train_df)} rows ({info['device']}, "
                f"{info['train_seconds']} s, step {info['global_step']}): val accuracy "
                f"{acc if acc is None else round(acc, 4)}, macro-F1 {f1 if f1 is None else round(f1, 4)}. "
                f"Model: {final}")
    return {**info, "skipped": False, "final_dir": str(final)}
