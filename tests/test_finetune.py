"""Step 6 on the tiny BERT: training, the saved model, fallbacks in real training, resume, pre-check."""
from __future__ import annotations

import json

import pytest
import torch

import fallback
import finetune
from pipeline_fixtures import run_steps, smoke_cfg
from project import Paths
from runlog import read_notes


@pytest.fixture(scope="module")
def trained(trained_root):
    import project

    return project.make_tree(trained_root)


def steps_per_epoch(paths, batch_size: int = 16) -> int:
    """Optimizer steps in one epoch over Step 3's training split (smoke mode trains on all of it)."""
    import math

    from splits import load_split

    return math.ceil(len(load_split(paths, "train", usecols=["label"])) / batch_size)


def test_final_model_is_complete_and_pipeline_returns_category_names(trained: Paths):
    from transformers import pipeline

    info = json.loads((trained.bert_final / "training_info.json").read_text())
    assert info["model_name"] == "tiny-bert" and info["global_step"] == 2 * steps_per_epoch(trained)  # 2 epochs
    assert 0.0 <= info["val_macro_f1"] <= 1.0
    assert not (trained.models / ".bert_final.tmp").exists()
    assert list((trained.bert_logs / "tiny-bert").glob("events.out.tfevents.*")), "no TensorBoard events"
    labels = set(json.loads((trained.models / "label_map.json").read_text())["label2id"])
    out = pipeline("text-classification", model=str(trained.bert_final))("Leather Running Sneaker Trail")
    assert out[0]["label"] in labels


def test_second_run_skips_when_final_is_complete(trained: Paths):
    res = finetune.run(smoke_cfg(trained), trained)
    assert res["skipped"] is True and res["global_step"] == 2 * steps_per_epoch(trained)


def test_fallbacks_in_real_training(project: Paths, monkeypatch):
    """A model that cannot load, then OOM at batch 16 and 8: training ends at batch 4 x accumulation 4."""
    run_steps(project)
    real = finetune.train_model
    attempts = []

    def flaky(cfg, paths, settings, *a, **kw):
        attempts.append((settings["model_name"], settings["batch_size"]))
        if settings["model_name"] == "tiny-bert" and settings["batch_size"] >= 8:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.50 GiB")
        return real(cfg, paths, settings, *a, **kw)

    monkeypatch.setattr(finetune, "train_model", flaky)
    missing = str(project.root / "no-such-model")
    plan = [{"model_name": missing, "batch_size": 16, "grad_accum": 1, "use_cpu": True, "why": "requested"}]
    plan += fallback.build_plan("tiny-bert", "tiny-bert", 16, on_gpu=False, min_batch_size=4)
    res = finetune.run(smoke_cfg(project, num_train_epochs=1.0), project, plan=plan)
    # the missing model fails already in its timing probe, before any training attempt
    assert attempts == [("tiny-bert", 16), ("tiny-bert", 8), ("tiny-bert", 4)]
    assert res["per_device_train_batch_size"] == 4 and res["gradient_accumulation_steps"] == 4
    assert [f["kind"] for f in res["fallbacks"]] == ["model_load", "oom", "oom"]
    note = read_notes(project)["fallbacks: Step 6 fine-tuning"]
    assert "no-such-model" in note and "failed (model_load)" in note
    assert note.count("CUDA out of memory. Tried to allocate 1.50 GiB") == 2
    assert "succeeded with tiny-bert batch=4x4 on cpu" in note
    saved = json.loads((project.bert_final / "training_info.json").read_text())
    assert saved["settings"]["batch_size"] == 4


class Interrupt(Exception):
    pass


def _callbacks():
    from transformers import TrainerCallback

    class StopAt(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 5:
                raise Interrupt("simulated Colab disconnect at step 5")

    class FirstStep(TrainerCallback):
        first = None

        def on_step_end(self, args, state, control, **kw):
            if FirstStep.first is None:
                FirstStep.first = state.global_step

    return StopAt(), FirstStep


def _interrupted_run(project: Paths):
    """Steps 2-5, then a 1-epoch fine-tuning that a simulated disconnect stops at step 5, after
    checkpoint-4 was saved: (the config, the checkpoint folder, a callback class that records the
    first step of the next run)."""
    run_steps(project)
    cfg = smoke_cfg(project, num_train_epochs=1.0, eval_steps=2, early_stopping_patience=0)
    stop, first_step = _callbacks()
    with pytest.raises(Interrupt):
        finetune.run(cfg, project, callbacks=[stop])
    return cfg, finetune.checkpoint_root(project, "tiny-bert"), first_step


def test_interrupted_run_resumes_from_last_complete_checkpoint(project: Paths):
    cfg, ckpt_root, first_step = _interrupted_run(project)
    assert (ckpt_root / "checkpoint-4" / "trainer_state.json").is_file()
    assert not finetune.is_final_complete(project.bert_final)
    # A checkpoint the disconnect cut short: folder and config, no trainer state or weights.
    (ckpt_root / "checkpoint-6").mkdir()
    (ckpt_root / "checkpoint-6" / "config.json").write_text("{}")
    res = finetune.run(cfg, project, callbacks=[first_step()])
    assert res["resumed_from"].endswith("checkpoint-4")
    assert first_step.first == 5  # the first step after resuming continues the old count
    assert res["global_step"] == steps_per_epoch(project)
    notes = read_notes(project)
    assert "Resumed from checkpoint-4" in notes["resume: Step 6 fine-tuning"]
    assert "Skipped half-written checkpoint(s) checkpoint-6" in notes["resume: Step 6 half-written checkpoints"]


def test_half_written_checkpoints_are_skipped_and_noted(tmp_path, project: Paths):
    root = tmp_path / "ckpts"
    good = root / "checkpoint-2"
    good.mkdir(parents=True)
    (good / "trainer_state.json").write_text(json.dumps({"global_step": 2}))
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(good / "model.safetensors"))
    bad = root / "checkpoint-4"
    bad.mkdir()
    (bad / "trainer_state.json").write_text(json.dumps({"global_step": 4}))
    (bad / "model.safetensors").write_bytes(b"\x00\x01truncated")
    assert finetune.is_complete_checkpoint(good) and not finetune.is_complete_checkpoint(bad)
    assert finetune.find_resume_checkpoint(root, project) == str(good)
    assert "checkpoint-4" in read_notes(project)["resume: Step 6 half-written checkpoints"]


def test_precheck_times_real_steps(trained: Paths):
    est = finetune.precheck(smoke_cfg(trained), trained)
    assert est["steps_timed"] == 4 and est["seconds_per_step"] > 0
    assert est["steps_per_epoch"] == steps_per_epoch(trained) and est["estimated_epoch_minutes"] > 0
    assert est["peak_gpu_memory_gb"] is None  # CPU here; on a GPU this is max_memory_allocated
    assert not (trained.models / ".precheck").exists()


def test_training_arguments_follow_v5_and_the_gpu(trained: Paths):
    cfg = smoke_cfg(trained)
    s = {"model_name": "x", "batch_size": 16, "grad_accum": 1, "use_cpu": False}
    t4 = {"cuda_available": True, "compute_capability": "7.5"}
    a100 = {"cuda_available": True, "compute_capability": "8.0"}
    import device

    assert device.precision_flags(t4) == {"fp16": True, "bf16": False}
    assert device.precision_flags(a100) == {"fp16": False, "bf16": True}
    args = finetune.training_arguments(cfg, {**s, "use_cpu": True}, str(trained.root / "o"), has_eval=True,
                                       n_train=100, device=t4)
    assert args.use_cpu and not args.fp16  # CPU fallback turns mixed precision off
    assert args.eval_strategy == "epoch" and args.metric_for_best_model == cfg.selection_metric == "accuracy"
    assert args.load_best_model_at_end and args.train_sampling_strategy == "group_by_length"
    assert args.warmup_steps == pytest.approx(cfg.warmup_fraction)
    assert args.report_to == ["tensorboard"]


def test_changed_data_between_an_interrupted_and_a_resumed_run_starts_fresh(project):
    cfg, ckpt_root, first_step = _interrupted_run(project)
    assert (ckpt_root / "checkpoint-4").is_dir() and (ckpt_root / finetune.FINGERPRINT_FILE).is_file()
    run_steps(project, seed=1)  # Step 3 re-run on other data
    res = finetune.run(cfg, project, callbacks=[first_step()])
    assert res["resumed_from"] is None and first_step.first == 1  # trained from step 1, not 5
    assert res["global_step"] == steps_per_epoch(project)
    note = read_notes(project)["resume: Step 6 fingerprint"]
    assert "the data changed (split hash" in note and "checkpoint-4" in note and "started fresh" in note
    assert "resume: Step 6 fine-tuning" not in read_notes(project)
    assert not ckpt_root.exists()  # a finished run leaves bert_final, not GBs of checkpoints


def test_fingerprint_follows_data_labels_and_recipe_not_the_batch_split(project):
    run_steps(project)
    cfg = smoke_cfg(project)
    dev = {"cuda_available": False, "device": "cpu"}
    s = finetune.initial_plan(cfg, dev)[0]
    inputs = finetune.finetune_inputs(cfg, project)
    fp = finetune.fingerprint(cfg, s, inputs, dev)
    assert finetune.fingerprint(cfg, s, finetune.finetune_inputs(cfg, project), dev) == fp  # stable
    # an out-of-memory fallback keeps the effective batch: its checkpoints stay resumable
    assert finetune.fingerprint(cfg, {**s, "batch_size": 8, "grad_accum": 2}, inputs, dev) == fp
    diff = finetune.fingerprint_differences
    lr = finetune.fingerprint(smoke_cfg(project, learning_rate=2e-3), s, inputs, dev)
    assert diff(fp, lr) == ["the training config changed (learning_rate: 0.001 -> 0.002)"]
    swapped = {0: inputs["id2label"][1], 1: inputs["id2label"][0], **{k: v for k, v in inputs["id2label"].items()
                                                                       if k > 1}}
    assert diff(fp, finetune.fingerprint(cfg, s, {**inputs, "id2label": swapped}, dev))[0].startswith(
        "the label map changed")
    titles_only = finetune.fingerprint(cfg, s, {**inputs, "pair": False}, dev)
    assert "text_pair: True -> False" in diff(fp, titles_only)[0]
    # checkpoints without a fingerprint (an older run) are not trusted either
    root = project.models / "ckpts"
    (root / "checkpoint-2").mkdir(parents=True)
    assert finetune.resume_sizing(root, fp, project) is None and not (root / "checkpoint-2").exists()
    assert "carry no fingerprint" in read_notes(project)["resume: Step 6 fingerprint"]


def test_a_small_time_budget_cuts_epochs_then_rows_and_says_so(project, monkeypatch):
    n = len(run_steps(project, n=600)["train"])  # about 480 training rows
    real = finetune.probe_training

    def slow(cfg, paths, settings, *a, **kw):  # as if on a slow runtime: the sizing must not hang on this machine's speed
        return {**real(cfg, paths, settings, *a, **kw), "seconds_per_row": 0.05}

    monkeypatch.setattr(finetune, "probe_training", slow)
    cfg = smoke_cfg(project, num_train_epochs=3.0, time_budget_minutes=0.05, finetune_min_rows=100)
    res = finetune.run(cfg, project)
    assert res["n_train_available"] == n and res["n_train"] == 100 and res["num_train_epochs"] == 1.0
    assert res["time_budget"]["sizing"]["rows"] == 100
    note = read_notes(project)["time budget"]
    assert "Step 6: fine-tuning" in note and "training rows/s" in note
    assert "epochs 3 -> 1" in note and f"rows {n} -> 100" in note
    assert f"100 of {n} rows" in project.summary.read_text()
    plan = json.loads((project.experiments / "time_budget.json").read_text())["steps"]["finetune"]
    assert plan["actual_seconds"] > 0 and plan["allowed_seconds"] >= 0


def test_a_model_too_slow_for_the_budget_gives_way_to_the_next(project, monkeypatch):
    import shutil

    import tiny_model

    n = len(run_steps(project)["train"])
    first = tiny_model.resolve_one("tiny-bert", project, ["warm up the vocabulary"] * 5)
    faster = str(project.models / "tiny-bert-copy")
    shutil.copytree(first, faster)
    real = finetune.probe_training

    def slow_first(cfg, paths, settings, *a, **kw):
        probe = real(cfg, paths, settings, *a, **kw)
        if settings["model_name"] == "tiny-bert":  # as if it were bert-base on 2 CPU cores
            probe = {**probe, "seconds_per_row": 60.0}
        return probe

    monkeypatch.setattr(finetune, "probe_training", slow_first)
    cfg = smoke_cfg(project, num_train_epochs=1.0, fallback_model_name="tiny-bert", cpu_model_name=faster)
    pre = finetune.precheck(cfg, project)
    assert pre["model"] == faster and pre["plan"]["rows"] == n and not pre["plan"]["cuts"]
    note = read_notes(project)["fallbacks: Step 6 pre-check"]
    assert "failed (too_slow)" in note and f"one epoch over {n} rows" in note
    res = finetune.run(cfg, project)  # starts where the pre-check ended: no second probe of tiny-bert
    assert res["model_name"] == faster and res["fallbacks"] == []
    assert "instead of tiny-bert (tiny-bert: too_slow)" in read_notes(project)["Step 6 model"]


def test_recipe_head_learns_faster_soft_targets_and_predictions_in_order(trained: Paths):
    """The new classifier head (and the pooler) get learning_rate x head_lr_multiplier; label
    smoothing reaches TrainingArguments; predict() returns rows in the dataset's order; sqrt
    class balance draws rows by 1/sqrt(class size)."""
    import numpy as np

    import device as device_mod
    from splits import load_label_map, load_split

    id2label, label2id = load_label_map(trained)
    train = load_split(trained, "train").head(60)
    val = load_split(trained, "val")
    cfg = smoke_cfg(trained, learning_rate=1e-4, finetune_head_lr_multiplier=10.0, label_smoothing=0.2)
    s = {"model_name": "tiny-bert", "batch_size": 8, "grad_accum": 1, "use_cpu": True}
    trainer, tok, _ = finetune.build_trainer(cfg, trained, s, train, val, id2label, label2id,
                                             output_dir=str(trained.root / "recipe"), device=device_mod.device_info(),
                                             report_to="none", save=False)
    assert trainer.args.label_smoothing_factor == pytest.approx(0.2)
    opt = trainer.create_optimizer()
    lrs = sorted({g["lr"] for g in opt.param_groups})
    assert lrs == [pytest.approx(1e-4), pytest.approx(1e-3)]
    head = {id(p) for n, p in trainer.model.named_parameters() if n.startswith("classifier") or ".pooler." in n}
    for g in opt.param_groups:
        assert all((id(p) in head) == (g["lr"] > 2e-4) for p in g["params"])
    pred = trainer.predict(finetune.encode(tok, val, cfg.max_length))
    assert list(pred.label_ids) == val["label"].tolist()  # not length-grouped any more
    balanced = smoke_cfg(trained, finetune_class_balance="sqrt")
    trainer2, _, _ = finetune.build_trainer(balanced, trained, s, train, None, id2label, label2id,
                                            output_dir=str(trained.root / "recipe2"),
                                            device=device_mod.device_info(), report_to="none", save=False)
    sampler = trainer2._get_train_sampler()
    counts = np.bincount(train["label"].to_numpy())
    expected = 1 / np.sqrt(counts[train["label"].to_numpy()])
    np.testing.assert_allclose(sampler.weights.numpy(), expected)
    assert trainer2.args.train_sampling_strategy == "random"


def test_training_curve_reads_the_log_history(tmp_path):
    history = [{"loss": 3.0, "epoch": 0.5, "step": 5}, {"loss": 2.0, "epoch": 1.0, "step": 10},
               {"eval_loss": 2.5, "eval_accuracy": 0.4, "eval_macro_f1": 0.3, "epoch": 1.0, "step": 10},
               {"loss": 1.0, "epoch": 2.0, "step": 20},
               {"eval_loss": 2.0, "eval_accuracy": 0.5, "eval_macro_f1": 0.45, "epoch": 2.0, "step": 20}]
    curve = finetune.plot_training_curve(history, tmp_path / "curve.png", "t")
    assert curve["epoch"] == [1.0, 2.0] and curve["train_loss"] == [2.5, 1.0]
    assert curve["eval_accuracy"] == [0.4, 0.5] and (tmp_path / "curve.png").stat().st_size > 5000


def test_linear_probe_starts_the_head_as_a_fitted_logistic_regression(trained: Paths):
    """LP-FT: with finetune_linear_probe the new head predicts the training rows well before any step."""
    import numpy as np

    import device as device_mod
    from splits import load_label_map, load_split

    id2label, label2id = load_label_map(trained)
    train = load_split(trained, "train")
    s = {"model_name": "tiny-bert", "batch_size": 8, "grad_accum": 1, "use_cpu": True}

    def head_accuracy(probe: bool) -> float:
        cfg = smoke_cfg(trained, finetune_linear_probe=probe, finetune_probe_C=10.0)
        trainer, tok, _ = finetune.build_trainer(cfg, trained, s, train, None, id2label, label2id,
                                                 output_dir=str(trained.root / "probe"),
                                                 device=device_mod.device_info(), report_to="none", save=False)
        pred = trainer.predict(finetune.encode(tok, train, cfg.max_length))
        return float(np.mean(pred.predictions.argmax(1) == train["label"].to_numpy()))

    assert head_accuracy(True) > max(0.5, head_accuracy(False) + 0.2)


def test_the_expected_new_head_is_not_reported_as_a_problem(trained: Paths, capfd):
    """Loading a base checkpoint for classification always leaves the new head MISSING: no LOAD REPORT
    for that on every load, but a report that names any other key still reaches the user."""
    from splits import load_label_map

    id2label, label2id = load_label_map(trained)
    finetune.load_classifier(str(trained.models / "tiny-bert"), id2label, label2id)
    assert "LOAD REPORT" not in capfd.readouterr().err
    table = ("Key               | Status  | \n------------------+---------+-\n"
             "classifier.weight | \x1b[31mMISSING\x1b[0m | \nclassifier.bias   | MISSING | \n")
    assert finetune.only_new_head_missing(table)
    assert not finetune.only_new_head_missing(table + "bert.encoder.layer.0.attention.self.query.weight | MISSING | \n")
    assert not finetune.only_new_head_missing(table.replace("classifier.bias   | MISSING", "classifier.bias   | MISMATCH"))


def test_the_linear_probe_gets_at_most_its_share_of_the_allowance():
    from config import Config

    cfg = Config.for_mode("full", finetune_probe_rows=20_000, finetune_probe_share=0.1, finetune_probe_min_rows=500)
    # MiniLM on a GPU: every training row fits the probe's tenth
    assert finetune.linear_probe_rows(cfg, 8_000, 600.0, 0.001) == (8_000, "")
    # bert-base on 2 CPU cores (~30 rows/s forward): 20,000 rows would be 11 minutes of a 20-minute allowance
    rows, cut = finetune.linear_probe_rows(cfg, 200_000, 1_200.0, 1 / 30)
    assert rows == 3_600 and cut == "LP-FT probe rows 20,000 -> 3,600"
    rows, cut = finetune.linear_probe_rows(cfg, 200_000, 60.0, 1 / 30)
    assert rows == 0 and cut.startswith("LP-FT probe skipped (only 180 rows fit 10% of the allowance")
    off = Config.for_mode("full", finetune_linear_probe=False)
    assert finetune.linear_probe_rows(off, 8_000, 600.0, 0.001) == (0, "")


def test_a_small_time_budget_cuts_the_linear_probe_rows_and_says_so(project, monkeypatch):
    import budget

    n = len(run_steps(project, n=600)["train"])
    real = finetune.probe_training

    def slow_forward(cfg, paths, settings, *a, **kw):  # as if a forward pass took 0.2 s a row
        return {**real(cfg, paths, settings, *a, **kw), "seconds_per_eval_row": 0.2}

    monkeypatch.setattr(finetune, "probe_training", slow_forward)
    # Step 6 has 100 s left whenever it asks, however fast this machine ran the steps before
    monkeypatch.setattr(budget.StepBudget, "left", lambda self: 100.0)
    cfg = smoke_cfg(project, num_train_epochs=1.0, finetune_linear_probe=True, finetune_probe_share=0.5,
                    finetune_probe_min_rows=10)
    res = finetune.run(cfg, project)
    assert res["linear_probe"]["probe_rows"] == res["time_budget"]["sizing"]["probe_rows"] == 250 < n
    assert f"LP-FT probe rows {n:,} -> 250" in read_notes(project)["time budget"]
