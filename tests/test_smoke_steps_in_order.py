"""Smoke mode end to end: Step 4's BERT embeddings and Steps 6-12 in notebook order, on the tree the
real Steps 2-5 left (conftest.step5_root), then each step again, which skips."""
from __future__ import annotations

import json
import math
import time

import pandas as pd
from pypdf import PdfReader

from config import Config
from pipeline_fixtures import copy_project


def test_steps_4_bert_and_6_to_12_run_in_order_and_then_skip(step5_root, tmp_path):
    import delivery
    import device
    import embeddings
    import evaluate
    import finetune
    import inference
    import interpret
    import report
    import tuning
    from splits import load_split

    project = copy_project(step5_root, tmp_path)
    n_train = len(load_split(project, "train"))
    cfg = Config.for_mode("smoke", project_root=str(project.root), n_hard_examples=5, lime_num_samples=100,
                          shap_background_rows=50)
    t0 = time.time()
    assert device.run(cfg, project)["device"] == "cpu"
    emb = embeddings.run(cfg, project)
    assert emb["model_name"] == "tiny-bert" and emb["rows"]["train"] == n_train
    pre = finetune.precheck(cfg, project)
    assert pre["estimated_epoch_minutes"] > 0
    ft = finetune.run(cfg, project)
    assert ft["global_step"] == math.ceil(n_train / 16) and finetune.is_final_complete(project.bert_final)
    opt = tuning.run(cfg, project)
    assert opt["n_trials"] == cfg.n_trials
    ev = evaluate.run(cfg, project)
    assert set(ev["metrics"]["model"]) >= {"baseline", "bert"}
    it = interpret.run(cfg, project)
    assert len(it["hard_examples"]) == 5
    preds = inference.predict("Usb Keyboard Laptop Hub", "", top_k=3, model="bert",
                              project_root_dir=str(project.root))
    assert len(preds) == 3
    rep = report.run(cfg, project)
    pdf_text = "".join(p.extract_text() for p in PdfReader(rep["pdf"]).pages)
    metrics = pd.read_csv(project.results / "metrics.csv")
    assert f"{metrics.loc[metrics.model == 'bert', 'macro_f1'].iloc[0]:.4f}" in pdf_text
    dl = delivery.run(cfg, project)
    msg = delivery.final_message(cfg, project)
    elapsed = time.time() - t0
    print(f"smoke Steps 4-BERT, 6-12: {elapsed:.1f} s")
    assert "How to run" in msg and dl["used"]["bert_finetune"]["model_name"] == "tiny-bert"
    summary = project.summary.read_text()
    for step in ("Step 4 — BERT embeddings", "Step 6 — Fine-tune BERT", "Step 7 — Hyperparameter optimisation",
                 "Step 8 — Evaluation", "Step 9 — Interpretability", "Step 11 — Report",
                 "Step 12 — Final summary", "Final — Delivery and paths"):
        assert f"[{step}]" in summary
    # Re-running everything is cheap: each step sees its complete artifacts and skips.
    assert embeddings.run(cfg, project)["skipped"] and finetune.run(cfg, project)["skipped"]
    assert tuning.run(cfg, project)["skipped"] and evaluate.run(cfg, project)["skipped"]
    assert interpret.run(cfg, project)["skipped"]
    json.loads((project.experiments / "optuna_results.json").read_text())
