"""The fallback chain: classification of errors and each link, proven by injected failures."""
from __future__ import annotations

import pytest
import torch

import fallback
from project import read_notes


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


def test_plan_on_gpu_halves_then_smaller_model_then_cpu():
    plan = fallback.build_plan("bert-base-uncased", "distilbert-base-uncased", 16, on_gpu=True, min_batch_size=4)
    assert [(p["model_name"], p["batch_size"], p["grad_accum"], p["use_cpu"]) for p in plan] == [
        ("bert-base-uncased", 16, 1, False),
        ("bert-base-uncased", 8, 2, False),
        ("bert-base-uncased", 4, 4, False),
        ("distilbert-base-uncased", 4, 4, False),
        ("distilbert-base-uncased", 16, 1, True),
    ]
    # the effective batch (batch x accumulation) never changes
    assert {p["batch_size"] * p["grad_accum"] for p in plan} == {16}


def test_plan_on_cpu_has_no_gpu_steps_and_no_duplicate_model():
    plan = fallback.build_plan("tiny-bert", "tiny-bert", 8, on_gpu=False)
    assert all(p["use_cpu"] for p in plan)
    assert [p["batch_size"] for p in plan] == [8, 4, 2]


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
    assert len(seen) == 5 and len(res.history) == 4
    note = read_notes(project)["fallbacks: test"]
    assert note.count("failed (oom)") == 4
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
    assert res.value == 4  # the fallback model keeps the last, smallest GPU batch
    assert "failed (model_load)" in read_notes(project)["fallbacks: test"]


def test_unrelated_errors_are_not_swallowed(project):
    def attempt(s):
        raise KeyError("label")

    with pytest.raises(KeyError):
        fallback.run_with_fallbacks(attempt, fallback.build_plan("a", "b", 8, on_gpu=True), paths=project)
    assert read_notes(project) == {}
