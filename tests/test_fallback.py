"""The fallback chain: classification of errors and each link, proven by injected failures."""
from __future__ import annotations

import pytest
import torch

import fallback
from runlog import read_notes


def oom():
    return torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


@pytest.mark.parametrize("exc,kind", [
    (torch.OutOfMemoryError("x"), fallback.OOM),
    (RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"), fallback.OOM),
    (MemoryError(), fallback.OOM),
    (fallback.ModelLoadError("cannot load"), fallback.MODEL_LOAD),
    (OSError("bert-base-uncased is not a valid model identifier listed on 'https://huggingface.co/models'"),
     fallback.MODEL_LOAD),
    (fallback.TooSlowError("too slow"), fallback.TOO_SLOW),
    (OSError(107, "Transport endpoint is not connected"), fallback.OTHER),  # Drive dropped: not a model problem
    (ValueError("shapes do not match"), fallback.OTHER),
    (KeyError("label"), fallback.OTHER),
])
def test_classify_error(exc, kind):
    assert fallback.classify_error(exc) == kind


def test_plan_on_gpu_halves_then_smaller_model_from_the_requested_batch_then_cpu():
    plan = fallback.build_plan("bert-base-uncased", "distilbert-base-uncased", 16, on_gpu=True, min_batch_size=4)
    assert [(p["model_name"], p["batch_size"], p["grad_accum"], p["use_cpu"]) for p in plan] == [
        ("bert-base-uncased", 16, 1, False),
        ("bert-base-uncased", 8, 2, False),
        ("bert-base-uncased", 4, 4, False),
        ("distilbert-base-uncased", 16, 1, False),
        ("distilbert-base-uncased", 8, 2, False),
        ("distilbert-base-uncased", 4, 4, False),
        ("distilbert-base-uncased", 16, 1, True),
    ]
    # the effective batch (batch x accumulation) never changes
    assert {p["batch_size"] * p["grad_accum"] for p in plan} == {16}


def test_plan_ends_with_the_cpu_model_and_plan_from_resumes_mid_chain():
    plan = fallback.build_plan("bert-base-uncased", "distilbert-base-uncased", 16, on_gpu=False, min_batch_size=8,
                               cpu_model_name="sentence-transformers/all-MiniLM-L6-v2")
    assert [(p["model_name"], p["batch_size"], p["use_cpu"]) for p in plan] == [
        ("bert-base-uncased", 16, True), ("bert-base-uncased", 8, True),
        ("distilbert-base-uncased", 16, True), ("distilbert-base-uncased", 8, True),
        ("sentence-transformers/all-MiniLM-L6-v2", 16, True), ("sentence-transformers/all-MiniLM-L6-v2", 8, True),
    ]
    rest = fallback.plan_from(plan, {"model_name": "distilbert-base-uncased", "batch_size": 8, "grad_accum": 2,
                                     "use_cpu": True})
    assert rest == plan[3:]
    assert fallback.plan_from(plan, {"model_name": "other"}) == plan


def test_plan_on_cpu_has_no_gpu_steps_and_no_duplicate_model():
    plan = fallback.build_plan("tiny-bert", "tiny-bert", 8, on_gpu=False, cpu_model_name="tiny-bert")
    assert all(p["use_cpu"] for p in plan)
    assert [p["batch_size"] for p in plan] == [8, 4, 2]


def test_fallback_model_starts_at_the_requested_batch_after_an_oom_chain(project):
    """Injected OOMs: bert-base fails at 16x1, 8x2, 4x4, 2x8; distilbert starts at 16x1 (not 2x8),
    fails there too and succeeds at 8x2."""
    plan = fallback.build_plan("bert-base-uncased", "distilbert-base-uncased", 16, on_gpu=True)
    seen = []

    def attempt(s):
        seen.append((s["model_name"], s["batch_size"], s["grad_accum"], s["use_cpu"]))
        if s["model_name"] == "bert-base-uncased" or s["batch_size"] > 8:
            raise oom()
        return (s["batch_size"], s["grad_accum"])

    res = fallback.run_with_fallbacks(attempt, plan, paths=project, topic="fallbacks: test")
    assert seen == [("bert-base-uncased", 16, 1, False), ("bert-base-uncased", 8, 2, False),
                    ("bert-base-uncased", 4, 4, False), ("bert-base-uncased", 2, 8, False),
                    ("distilbert-base-uncased", 16, 1, False), ("distilbert-base-uncased", 8, 2, False)]
    assert res.value == (8, 2) and not res.settings["use_cpu"]
    note = read_notes(project)["fallbacks: test"]
    assert "bert-base-uncased batch=2x8 on gpu failed (oom)" in note
    assert "distilbert-base-uncased batch=16x1 on gpu failed (oom)" in note
    assert "succeeded with distilbert-base-uncased batch=8x2 on gpu" in note


def test_oom_walks_every_link_down_to_cpu(project):
    plan = fallback.build_plan("bert-base-uncased", "distilbert-base-uncased", 16, on_gpu=True, min_batch_size=4)
    seen = []

    def attempt(s):
        seen.append((s["model_name"], s["batch_size"], s["use_cpu"]))
        if not s["use_cpu"]:
            raise oom()
        return "trained on cpu"

    res = fallback.run_with_fallbacks(attempt, plan, paths=project, topic="fallbacks: test")
    assert res.value == "trained on cpu"
    assert res.settings["use_cpu"] and res.settings["model_name"] == "distilbert-base-uncased"
    assert len(seen) == 7 and len(res.history) == 6
    note = read_notes(project)["fallbacks: test"]
    assert note.count("failed (oom)") == 6
    assert "CUDA out of memory. Tried to allocate 2.00 GiB" in note
    assert "succeeded with distilbert-base-uncased batch=16x1 on cpu" in note


def test_oom_everywhere_raises_a_clear_final_error(project):
    plan = fallback.build_plan("bert-base-uncased", "distilbert-base-uncased", 16, on_gpu=True, min_batch_size=8)

    def attempt(s):
        raise oom()

    with pytest.raises(fallback.FallbackExhausted) as info:
        fallback.run_with_fallbacks(attempt, plan, paths=project, topic="fallbacks: test")
    msg = str(info.value)
    assert "every fallback failed" in msg and msg.count("oom") == len(plan)
    assert "no fallback left" in read_notes(project)["fallbacks: test"]


def test_model_load_failure_skips_the_batch_halving(project):
    plan = fallback.build_plan("bert-base-uncased", "distilbert-base-uncased", 16, on_gpu=True, min_batch_size=4)
    tried = []

    def attempt(s):
        tried.append(s["model_name"])
        if s["model_name"] == "bert-base-uncased":
            raise fallback.ModelLoadError("cannot load 'bert-base-uncased': offline")
        return s["batch_size"]

    res = fallback.run_with_fallbacks(attempt, plan, paths=project, topic="fallbacks: test")
    assert tried == ["bert-base-uncased", "distilbert-base-uncased"]
    assert res.value == 16  # the fallback model starts again at the requested batch
    assert "failed (model_load)" in read_notes(project)["fallbacks: test"]


def test_unrelated_errors_are_not_swallowed(project):
    def attempt(s):
        raise KeyError("label")

    with pytest.raises(KeyError):
        fallback.run_with_fallbacks(attempt, fallback.build_plan("a", "b", 8, on_gpu=True), paths=project)
    assert read_notes(project) == {}
