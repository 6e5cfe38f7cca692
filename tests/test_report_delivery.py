"""Steps 11-12 and Final: report from metrics files, a real PDF, summary notebook, delivery files."""
from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest
from pypdf import PdfReader

import delivery
import report
from config import Config
from pipeline_fixtures import copy_project, smoke_cfg
from runlog import read_notes

METRICS = pd.DataFrame([
    {"model": "baseline", "accuracy": 0.6412, "macro_precision": 0.6, "macro_recall": 0.55, "macro_f1": 0.5731,
     "weighted_precision": 0.63, "weighted_recall": 0.6412, "weighted_f1": 0.63, "top2_accuracy": 0.75,
     "top3_accuracy": 0.8123},
    {"model": "bert", "accuracy": 0.7021, "macro_precision": 0.66, "macro_recall": 0.62, "macro_f1": 0.6389,
     "weighted_precision": 0.7, "weighted_recall": 0.7021, "weighted_f1": 0.69, "top2_accuracy": 0.82,
     "top3_accuracy": 0.8765},
])


@pytest.fixture
def proj(trained_root, tmp_path):
    paths = copy_project(trained_root, tmp_path)
    METRICS.to_csv(paths.results / "metrics.csv", index=False)
    return paths


def _pdf_text(path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)


def test_report_numbers_come_from_the_metrics_file_and_pdf_is_real(proj):
    res = report.run(smoke_cfg(proj), proj)
    md = (proj.report / "final_report.md").read_text()
    for v in ("0.6412", "0.5731", "0.7021", "0.6389", "0.8765"):
        assert v in md
    assert "Best model by macro-F1: **bert**" in md
    text = _pdf_text(proj.report / "final_report.pdf")
    assert (proj.report / "final_report.pdf").read_bytes()[:5] == b"%PDF-"
    for v in ("0.6412", "0.7021", "0.6389", "Test-set metrics"):
        assert v in text
    assert res["pdf_route"] in read_notes(proj)["report: PDF route"]
    assert "fpdf2" in res["pdf_route"]  # no xelatex or Chromium on this machine


def test_summary_notebook_without_an_executed_notebook_says_so(proj):
    res = report.run(smoke_cfg(proj), proj)
    nb = nbformat.read(str(proj.notebooks / "summary.ipynb"), as_version=4)
    assert "no executed notebook is available yet" in nb.cells[0].source
    assert "no executed notebook" in res["summary_notebook_source"]


def test_summary_notebook_is_trimmed_from_the_executed_notebook(proj):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Product categorization"),
                nbformat.v4.new_markdown_cell("## Step 5 — Baselines"), nbformat.v4.new_code_cell("train()"),
                nbformat.v4.new_markdown_cell("## Step 8 — Model evaluation on the test set"),
                nbformat.v4.new_code_cell("evaluate.run(cfg, paths)"),
                nbformat.v4.new_markdown_cell("## Final — Delivery and paths")]
    nbformat.write(nb, str(proj.notebooks / "executed_smoke.ipynb"))
    res = report.run(smoke_cfg(proj), proj)
    out = nbformat.read(str(proj.notebooks / "summary.ipynb"), as_version=4)
    assert [c.source.splitlines()[0] for c in out.cells] == [
        "# Product categorization", "## Step 8 — Model evaluation on the test set", "evaluate.run(cfg, paths)",
        "## Final — Delivery and paths"]
    assert "executed_smoke.ipynb" in res["summary_notebook_source"]


def test_delivery_files_and_final_message(proj, tmp_path):
    built = tmp_path / "built.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(built))
    res = delivery.run(smoke_cfg(proj), proj, built_notebook=str(built))
    assert (proj.root / "product_categorization_colab.ipynb").is_file() and "copied" in res["notebook_how"]
    sh = (proj.root / "run_all_colab.sh").read_text()
    assert sh.startswith("#!/usr/bin/env bash") and "papermill" in sh
    cfg_back = Config.load_yaml(str(proj.root / "config_colab.yaml"))
    assert cfg_back.model_name == "tiny-bert" and cfg_back.seed == 42
    import yaml

    used = yaml.safe_load((proj.root / "config_colab.yaml").read_text())["used"]
    assert used["bert_finetune"]["per_device_train_batch_size"] == 16
    summary = proj.summary.read_text()
    assert "bert: accuracy 0.7021, macro-F1 0.6389" in summary and "baseline: accuracy 0.6412" in summary
    msg = delivery.final_message(smoke_cfg(proj), proj)
    assert str(proj.root / "product_categorization_colab.ipynb") in msg
    assert "Anyone with the link" in msg and "How to run:" in msg
    assert msg.count("\n  ") >= len(delivery.HOW_TO_RUN)
    assert "[Final — Delivery and paths]" in proj.summary.read_text()


def test_a_cell_longer_than_a_page_is_cut_in_the_report_not_in_the_csv(proj):
    """One table row taller than a PDF page cannot be rendered (fpdf2 raises): a model's notes
    are cut in the report's tables; results/metrics_baselines.csv keeps them whole."""
    base = pd.read_csv(proj.results / "metrics_baselines.csv")
    base.loc[0, "notes"] = "word " * 1000
    base.to_csv(proj.results / "metrics_baselines.csv", index=False)
    report.run(smoke_cfg(proj), proj)
    md = (proj.report / "final_report.md").read_text()
    assert ("word " * 40).strip() in md and "word " * 60 not in md and "…" in md
    assert (proj.report / "final_report.pdf").read_bytes()[:5] == b"%PDF-"
    assert len(pd.read_csv(proj.results / "metrics_baselines.csv").loc[0, "notes"]) == 5000
