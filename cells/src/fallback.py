"""Run a heavy operation through a chain of safer settings when it fails.

The chain the notebook promises: CUDA out of memory -> halve the batch (doubling
gradient accumulation, so the effective batch stays the same) -> the smaller fallback
model (distilbert-base-uncased), again from the requested batch -> CPU. A model that cannot be loaded (offline, typo,
gated repo) jumps straight to the next model. Every switch is written to NOTES.md
with the error that caused it; any other error is a real bug and is raised as is.

    plan = fallback.build_plan("bert-base-uncased", "distilbert-base-uncased", 16, on_gpu=True)
    result = fallback.run_with_fallbacks(train_once, plan, paths=paths, topic="fallbacks: fine-tuning")
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

OOM = "oom"
MODEL_LOAD = "model_load"
TOO_SLOW = "too_slow"
OTHER = "other"

_OOM_MARKERS = ("cuda out of memory", "out of memory", "cublas_status_alloc_failed",
                "defaultcpuallocator: can't allocate memory")
_LOAD_MARKERS = ("is not a valid model identifier", "can't load", "couldn't connect",
                 "does not appear to have a file named", "we couldn't connect", "offline mode",
                 "repository not found", "not a local folder and is not a valid model")


class ModelLoadError(RuntimeError):
    """A model or tokenizer could not be loaded (raised by the caller around from_pretrained)."""


class TooSlowError(RuntimeError):
    """A timed probe says the operation would exceed its time budget."""


class FallbackExhausted(RuntimeError):
    """Every setting in the plan failed; the message lists each attempt and its error."""


def classify_error(exc: BaseException) -> str:
    """Map an exception to the fallback it calls for: oom | model_load | too_slow | other."""
    import torch

    if isinstance(exc, TooSlowError):
        return TOO_SLOW
    if isinstance(exc, ModelLoadError):
        return MODEL_LOAD
    oom_type = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return OOM
    if isinstance(exc, MemoryError):
        return OOM
    msg = str(exc).lower()
    if isinstance(exc, RuntimeError) and any(m in msg for m in _OOM_MARKERS):
        return OOM
    # Only loader-shaped OSErrors: a Drive disconnect (Errno 107) must not switch models.
    if isinstance(exc, (OSError, ValueError)) and any(m in msg for m in _LOAD_MARKERS):
        return MODEL_LOAD
    return OTHER


def build_plan(model_name: str, fallback_model_name: str, batch_size: int, on_gpu: bool,
               grad_accum: int = 1, min_batch_size: int = 2, cpu_model_name: str = "") -> list[dict[str, Any]]:
    """The ordered settings to try. Each is a dict: model_name, batch_size, grad_accum, use_cpu, why.

    Every model starts at the requested batch and halves from there: a smaller model that
    follows an out-of-memory chain needs less memory, so it must not inherit the smallest
    batch reached (2x8 is 8 times the micro-steps of 16x1). The CPU links come last: on a
    GPU the fallback model moved to CPU, then (with or without a GPU) cpu_model_name, a
    model small enough to fine-tune on a few CPU cores (chosen when the budget finds the
    others too slow)."""
    plan: list[dict[str, Any]] = []
    bs0, ga0 = int(batch_size), int(grad_accum)

    def chain(name: str, use_cpu: bool, why: str) -> None:
        bs, ga = bs0, ga0
        plan.append({"model_name": name, "batch_size": bs, "grad_accum": ga, "use_cpu": use_cpu, "why": why})
        while bs // 2 >= min_batch_size:
            bs, ga = bs // 2, ga * 2
            plan.append({"model_name": name, "batch_size": bs, "grad_accum": ga, "use_cpu": use_cpu,
                         "why": "halved batch after out-of-memory (gradient accumulation doubled)"})

    chain(model_name, not on_gpu, "requested settings")
    if fallback_model_name and fallback_model_name != model_name:
        chain(fallback_model_name, not on_gpu, f"smaller fallback model {fallback_model_name} at the requested batch")
    last_model = fallback_model_name or model_name
    if on_gpu:
        plan.append({"model_name": last_model, "batch_size": bs0, "grad_accum": ga0, "use_cpu": True,
                     "why": "CPU after the GPU ran out of memory"})
    if cpu_model_name and cpu_model_name not in (model_name, last_model):
        chain(cpu_model_name, True, f"{cpu_model_name}, small enough for CPU, after the others failed or were too slow")
    return plan


def plan_from(plan: list[dict[str, Any]], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The rest of `plan` from the entry matching `settings` (model, batch, accumulation, device) on;
    the whole plan when none matches. A pre-check that already walked part of the chain hands
    its result to the real run this way, so the run does not retry what failed."""
    key = ("model_name", "batch_size", "grad_accum", "use_cpu")
    for i, p in enumerate(plan):
        if all(p.get(k) == settings.get(k) for k in key):
            return plan[i:]
    return plan


@dataclass
class FallbackResult:
    value: Any
    settings: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fell_back(self) -> bool:
        return bool(self.history)


def _next_index(plan: list[dict[str, Any]], i: int, kind: str) -> Optional[int]:
    failed = plan[i]
    for j in range(i + 1, len(plan)):
        cand = plan[j]
        # A model that cannot load (or is too slow) will not get better with a smaller
        # batch, so skip to the first setting that uses another model.
        if kind in (MODEL_LOAD, TOO_SLOW) and cand["model_name"] == failed["model_name"]:
            continue
        return j
    return None


def _free_accelerator_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # freeing memory must never hide the original error
        pass


def run_with_fallbacks(attempt_fn: Callable[[dict[str, Any]], Any], plan: list[dict[str, Any]],
                       paths=None, topic: str = "fallbacks",
                       on_fallback: Optional[Callable[[dict[str, Any], dict[str, Any], BaseException], None]] = None
                       ) -> FallbackResult:
    """Call attempt_fn(settings) along the plan until one succeeds; record every switch in NOTES.md."""
    if not plan:
        raise ValueError("fallback plan is empty")
    history: list[dict[str, Any]] = []
    i: Optional[int] = 0
    while i is not None:
        settings = plan[i]
        try:
            value = attempt_fn(dict(settings))
        except Exception as exc:  # noqa: BLE001 - classified below, unknown errors re-raised
            kind = classify_error(exc)
            if kind == OTHER:
                raise
            entry = {"settings": dict(settings), "kind": kind, "error": f"{type(exc).__name__}: {exc}"[:500]}
            history.append(entry)
            j = _next_index(plan, i, kind)
            if paths is not None:
                _record(paths, topic, history, plan[j] if j is not None else None)
            if j is None:
                raise FallbackExhausted(_exhausted_message(topic, history)) from exc
            if on_fallback is not None:
                on_fallback(settings, plan[j], exc)
            print(f"[fallback] {kind} with {_fmt(settings)} -> trying {_fmt(plan[j])} ({plan[j]['why']})")
        else:
            if history and paths is not None:
                _record(paths, topic, history, settings, succeeded=True)
            return FallbackResult(value=value, settings=dict(settings), history=history)
        # Only here, outside the except block, is the traceback gone, and with it the frames that
        # still hold the failed attempt's model and optimizer, so their GPU memory can be returned.
        _free_accelerator_memory()
        i = j
    raise AssertionError("unreachable")


def _fmt(s: dict[str, Any]) -> str:
    dev = "cpu" if s.get("use_cpu") else "gpu"
    return f"{s['model_name']} batch={s['batch_size']}x{s['grad_accum']} on {dev}"


def _exhausted_message(topic: str, history: list[dict[str, Any]]) -> str:
    lines = [f"{topic}: every fallback failed."]
    lines += [f"  - {_fmt(h['settings'])}: {h['kind']}: {h['error']}" for h in history]
    return "\n".join(lines)


def _record(paths, topic: str, history: list[dict[str, Any]], current: Optional[dict[str, Any]],
            succeeded: bool = False) -> None:
    from runlog import record_note

    lines = []
    for h in history:
        lines.append(f"- {_fmt(h['settings'])} failed ({h['kind']}): `{h['error']}`")
    if current is None:
        lines.append("- no fallback left: the step failed (see the errors above).")
    elif succeeded:
        lines.append(f"- succeeded with {_fmt(current)} ({current['why']}).")
    else:
        lines.append(f"- next: {_fmt(current)} ({current['why']}).")
    record_note(paths, topic, "\n".join(lines))
