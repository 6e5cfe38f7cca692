"""GPU check: what the notebook's training settings buy on a real GPU, in one run (< 8 min).

    python bench/gpu_check.py                       # on a machine with an NVIDIA GPU
    python bench/gpu_check.py --cpu-smoke           # tiny model, few steps: proves the script runs
    python bench/gpu_check.py --out /tmp/gpu.json --notebook build/product_categorization_colab.ipynb

Needs only torch, transformers (4.4x or 5.x), numpy; no internet, no downloaded weights.
It reports the GPU (name, memory, compute capability, library versions) and fine-tunes a
BERT-base-sized classifier (BertConfig() defaults, random init: the throughput of a
training step doesn't depend on the weights) on synthetic title-like inputs whose token
lengths follow a product-title distribution, twice on the same data:

- hf_defaults: fp32, every sample padded to max_length=128, random batches;
- notebook: fp16 when compute capability < 8 (T4, V100; bf16 runs ~4x slower on a T4
  although torch says it is supported) else bf16, dynamic padding via
  DataCollatorWithPadding(pad_to_multiple_of=8) and length-grouped batches.

Throughput is samples/s over the steps after a warm-up, so CUDA init and autotuning don't
count. Then, if nbclient and ipykernel are importable and a built notebook exists, it runs
the notebook in smoke mode end to end and records the wall time (skipped with a note
otherwise). Writes one JSON file (default bench/out/gpu_check.json) and prints it.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig,
    BertForSequenceClassification,
    BertTokenizerFast,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    default_data_collator,
)

REPO = Path(__file__).resolve().parents[1]
NUM_LABELS = 248  # the Amazon category count: sets the classifier head's size
MAX_LENGTH = 128


@dataclasses.dataclass
class Plan:
    config: dict
    batch_size: int
    steps: int
    warmup_steps: int
    n_samples: int
    max_seconds_per_run: float


GPU_PLAN = Plan(config={}, batch_size=32, steps=160, warmup_steps=20, n_samples=160 * 32,
                max_seconds_per_run=150.0)
# Small enough for 2 CPU cores in seconds; big enough that padding still dominates the cost.
CPU_SMOKE_PLAN = Plan(config=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=128, vocab_size=2000),
                      batch_size=8, steps=6, warmup_steps=2, n_samples=6 * 8, max_seconds_per_run=60.0)


def gpu_info() -> dict:
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cuda_available": torch.cuda.is_available(),
        "torch_cuda": torch.version.cuda,
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(
            name=props.name,
            memory_gib=round(props.total_memory / 1024 ** 3, 1),
            capability=f"{props.major}.{props.minor}",
            multiprocessors=props.multi_processor_count,
            device_count=torch.cuda.device_count(),
            bf16_supported=bool(torch.cuda.is_bf16_supported()),
            cudnn=torch.backends.cudnn.version(),
        )
    return info


def pick_precision(cpu: bool) -> str:
    """The notebook's rule: fp16 below capability 8 (T4 runs bf16 ~4x slower), else bf16."""
    if cpu or not torch.cuda.is_available():
        return "fp32"
    major, _ = torch.cuda.get_device_capability(0)
    return "bf16" if major >= 8 and torch.cuda.is_bf16_supported() else "fp16"


def title_lengths(n: int, rng: np.random.Generator) -> np.ndarray:
    """Token counts of product titles: right-skewed, median ~26, mostly 10-60 (measured on
    the asaniczka titles with a BERT tokenizer: median 134 characters ≈ 26-30 word pieces)."""
    raw = rng.lognormal(mean=math.log(26), sigma=0.45, size=n)
    return np.clip(np.round(raw), 10, 60).astype(int)


def offline_tokenizer(vocab_size: int, folder: Path) -> BertTokenizerFast:
    """A BERT tokenizer built from a generated vocab: only its padding is used, so no download."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = specials + [f"tok{i}" for i in range(vocab_size - len(specials))]
    path = folder / "vocab.txt"
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return BertTokenizerFast(vocab_file=str(path))


def synthetic_samples(n: int, vocab_size: int, num_labels: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for length in title_lengths(n, rng):
        body = rng.integers(1000 if vocab_size > 2000 else 5, vocab_size, size=length - 2).tolist()
        ids = [101 if vocab_size > 2000 else 2] + body + [102 if vocab_size > 2000 else 3]
        out.append({"input_ids": ids, "attention_mask": [1] * len(ids),
                    "token_type_ids": [0] * len(ids), "labels": int(rng.integers(0, num_labels))})
    return out


def pad_to_max(samples: list[dict], pad_id: int) -> list[dict]:
    out = []
    for s in samples:
        extra = MAX_LENGTH - len(s["input_ids"])
        out.append({"input_ids": s["input_ids"] + [pad_id] * extra,
                    "attention_mask": s["attention_mask"] + [0] * extra,
                    "token_type_ids": s["token_type_ids"] + [0] * extra,
                    "labels": s["labels"]})
    return out


class StepTimer(TrainerCallback):
    """Wall-clock per optimizer step, synchronised with the GPU, stopping at a time budget."""

    def __init__(self, warmup_steps: int, max_seconds: float, sync: bool):
        self.warmup_steps, self.max_seconds, self.sync = warmup_steps, max_seconds, sync
        self.t_begin = self.t_warm = self.t_end = None
        self.steps_after_warmup = 0

    def _sync(self):
        if self.sync and torch.cuda.is_available():
            torch.cuda.synchronize()

    def on_train_begin(self, args, state, control, **kw):
        self._sync()
        self.t_begin = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        self._sync()
        now = time.perf_counter()
        if state.global_step == self.warmup_steps:
            self.t_warm = now
        elif state.global_step > self.warmup_steps:
            self.steps_after_warmup += 1
            self.t_end = now
        if now - self.t_begin > self.max_seconds and self.steps_after_warmup >= 3:
            control.should_training_stop = True
        return control


def training_args(out_dir: str, plan: Plan, precision: str, grouped: bool, cpu: bool) -> TrainingArguments:
    """TrainingArguments that work on transformers 4.4x and 5.x (names changed in v5)."""
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    kw = dict(output_dir=out_dir, per_device_train_batch_size=plan.batch_size, max_steps=plan.steps,
              learning_rate=3e-5, logging_strategy="no", save_strategy="no", report_to=[],
              disable_tqdm=True, dataloader_num_workers=0, seed=42,
              fp16=precision == "fp16", bf16=precision == "bf16")
    if grouped:
        if "train_sampling_strategy" in names:
            kw["train_sampling_strategy"] = "group_by_length"
        else:
            kw["group_by_length"] = True
    if cpu or not torch.cuda.is_available():
        kw["use_cpu" if "use_cpu" in names else "no_cuda"] = True
    return TrainingArguments(**{k: v for k, v in kw.items() if k in names})


def run_setting(name: str, plan: Plan, samples: list[dict], tokenizer, precision: str,
                dynamic: bool, tmp: Path, cpu: bool) -> dict:
    torch.manual_seed(42)
    config = BertConfig(num_labels=NUM_LABELS, **plan.config)
    model = BertForSequenceClassification(config)
    if dynamic:
        data, collator = samples, DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8)
    else:
        data, collator = pad_to_max(samples, tokenizer.pad_token_id), default_data_collator
    args = training_args(str(tmp / name), plan, precision, grouped=dynamic, cpu=cpu)
    timer = StepTimer(plan.warmup_steps, plan.max_seconds_per_run, sync=not cpu)
    trainer_kw = dict(model=model, args=args, train_dataset=data, data_collator=collator, callbacks=[timer])
    params = Trainer.__init__.__code__.co_varnames
    trainer_kw["processing_class" if "processing_class" in params else "tokenizer"] = tokenizer
    gpu = not cpu and torch.cuda.is_available()
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    trainer = Trainer(**trainer_kw)
    trainer.train()
    timed = timer.steps_after_warmup
    seconds = (timer.t_end - timer.t_warm) if timed else float("nan")
    row = {
        "setting": name, "precision": precision,
        "padding": "dynamic, multiple of 8" if dynamic else f"max_length={MAX_LENGTH}",
        "length_grouping": dynamic, "batch_size": plan.batch_size,
        "timed_steps": timed, "seconds": round(seconds, 3),
        "samples_per_s": round(timed * plan.batch_size / seconds, 2) if timed else None,
    }
    if gpu:
        row["peak_gpu_mem_gib"] = round(torch.cuda.max_memory_allocated() / 1024 ** 3, 2)
    del trainer, model
    if gpu:
        torch.cuda.empty_cache()
    return row


def throughput(plan: Plan, cpu: bool) -> dict:
    precision = pick_precision(cpu)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        vocab = BertConfig(**plan.config).vocab_size
        tokenizer = offline_tokenizer(vocab, tmp)
        samples = synthetic_samples(plan.n_samples, vocab, NUM_LABELS)
        rows = [run_setting("hf_defaults", plan, samples, tokenizer, "fp32", False, tmp, cpu),
                run_setting("notebook", plan, samples, tokenizer, precision, True, tmp, cpu)]
    lengths = [len(s["input_ids"]) for s in samples]
    base, ours = rows[0]["samples_per_s"], rows[1]["samples_per_s"]
    return {
        "model": "BertConfig() defaults (bert-base size), random init" if not plan.config
                 else f"small BertConfig {plan.config}",
        "max_length": MAX_LENGTH,
        "token_length": {"min": int(min(lengths)), "median": float(np.median(lengths)),
                         "p95": float(np.percentile(lengths, 95)), "max": int(max(lengths))},
        "rows": rows,
        "speedup": round(ours / base, 2) if base and ours else None,
    }


def seed_defaults_in_budget(tp: dict) -> dict:
    """Whether the seed's fine-tuning (cfg.num_train_epochs x cfg.finetune_train_rows at batch 16)
    fits Step 6's share of the full-mode default time budget at the notebook settings' measured
    throughput, by the notebook's own arithmetic (cells/src/budget.py). Evaluation is taken at 3x
    the training rate (forward only; not measured here)."""
    sys.path.insert(0, str(REPO / "cells" / "src"))
    import budget
    from config import DEFAULT_TIME_BUDGET_MINUTES, Config

    cfg = Config()
    rate = next(r["samples_per_s"] for r in tp["rows"] if r["setting"] == "notebook")
    minutes = DEFAULT_TIME_BUDGET_MINUTES["full"]
    share = budget.Budget(minutes).initial_plan["finetune"]
    s = budget.size_training(share, rows=cfg.finetune_train_rows, epochs=cfg.num_train_epochs, seconds_per_row=1 / rate,
                             eval_rows=cfg.finetune_eval_rows, seconds_per_eval_row=1 / (3 * rate),
                             min_rows=cfg.finetune_min_rows)
    return {"budget_minutes": minutes, "finetune_share_minutes": round(share / 60, 1), "samples_per_s": rate,
            "rows": s.rows, "epochs": s.epochs, "eval_rows": s.eval_rows, "planned_minutes": round(s.seconds / 60, 1),
            "cuts": s.cuts, "seed_defaults_kept": not s.cuts}


def find_notebook(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    preferred = REPO / "build/product_categorization_colab.ipynb"
    if preferred.is_file():
        return preferred
    built = sorted((REPO / "build").glob("*.ipynb")) if (REPO / "build").is_dir() else []
    return built[0] if built else None


_NOTEBOOK_RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
src, dst, root, cwd = sys.argv[1:5]
nb = nbformat.read(src, as_version=4)
inject = nbformat.v4.new_code_cell(
    f'RUN_MODE = "smoke"\\nPROJECT_ROOT_OVERRIDE = {root!r}\\nFORCE = True\\n',
    metadata={"tags": ["injected-parameters"]})
idx = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
nb.cells.insert(0 if idx is None else idx + 1, inject)
try:
    NotebookClient(nb, timeout=None, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
finally:
    nbformat.write(nb, dst)
"""


def notebook_smoke(path: Path | None, timeout_s: float) -> dict:
    """Execute the built notebook with RUN_MODE="smoke" the way papermill would (a cell after
    the `parameters` cell overrides the defaults), in a child process killed at timeout_s,
    so the whole script keeps to its time budget."""
    import importlib.util
    import subprocess

    missing = [m for m in ("nbformat", "nbclient", "ipykernel") if importlib.util.find_spec(m) is None]
    if missing:
        return {"status": "skipped", "note": f"not importable: {', '.join(missing)}"}
    if path is None or not path.is_file():
        return {"status": "skipped", "note": "no built notebook (run `go run . build` first or pass --notebook)"}
    if timeout_s < 60:
        return {"status": "skipped", "note": f"only {timeout_s:.0f} s of the time budget left"}
    root = tempfile.mkdtemp(prefix="gpu_check_nb_")
    executed = Path(root) / "executed_smoke.ipynb"
    import signal

    t0 = time.perf_counter()
    # Own session: on timeout the kernel (a grandchild holding our pipes) is killed with it.
    proc = subprocess.Popen([sys.executable, "-c", _NOTEBOOK_RUNNER, str(path), str(executed), root, str(REPO)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"status": "timeout", "seconds": round(time.perf_counter() - t0, 1), "notebook": str(path),
                "note": f"stopped at the {timeout_s:.0f} s left in the budget"}
    out = {"status": "ok" if proc.returncode == 0 else "error", "seconds": round(time.perf_counter() - t0, 1),
           "notebook": str(path), "executed": str(executed)}
    if proc.returncode != 0:
        out["note"] = err.strip()[-800:]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpu-smoke", action="store_true", help="tiny model, few steps, on CPU")
    ap.add_argument("--out", default=str(REPO / "bench/out/gpu_check.json"))
    ap.add_argument("--steps", type=int, help="training steps per setting (default 160 on GPU)")
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--notebook", help="built .ipynb to run in smoke mode (default build/*.ipynb)")
    ap.add_argument("--skip-notebook", action="store_true")
    ap.add_argument("--budget-s", type=float, default=450.0, help="whole-script time budget")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    info = gpu_info()
    if not info["cuda_available"] and not args.cpu_smoke:
        print("no CUDA GPU visible: use --cpu-smoke to check the script on CPU", file=sys.stderr)
        result = {"mode": "gpu", "status": "error", "gpu": info, "note": "no CUDA GPU visible"}
        _write(args.out, result)
        return 2
    plan = CPU_SMOKE_PLAN if args.cpu_smoke else GPU_PLAN
    if args.steps:
        plan = dataclasses.replace(plan, steps=args.steps, n_samples=args.steps * plan.batch_size,
                                   warmup_steps=min(plan.warmup_steps, max(1, args.steps // 4)))
    if args.batch_size:
        plan = dataclasses.replace(plan, batch_size=args.batch_size, n_samples=plan.steps * args.batch_size)
    result = {"mode": "cpu-smoke" if args.cpu_smoke else "gpu", "status": "ok", "gpu": info,
              "plan": dataclasses.asdict(plan)}
    try:
        # Smoke mode stays on CPU even on a GPU box, so it proves the code path CI runs.
        result["throughput"] = throughput(plan, cpu=args.cpu_smoke)
        result["seed_defaults_in_budget"] = seed_defaults_in_budget(result["throughput"])
    except Exception:
        result["status"] = "error"
        result["throughput_error"] = traceback.format_exc()[-2000:]
    if args.skip_notebook or args.cpu_smoke:
        result["notebook_smoke"] = {"status": "skipped",
                                    "note": "--skip-notebook" if args.skip_notebook else "not in --cpu-smoke"}
    else:
        left = args.budget_s - (time.perf_counter() - t0)
        result["notebook_smoke"] = notebook_smoke(find_notebook(args.notebook), left)
    result["total_seconds"] = round(time.perf_counter() - t0, 1)
    _write(args.out, result)
    return 0 if result["status"] == "ok" else 1


def _write(path: str, result: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, default=str)
    Path(path).write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
