"""Quick Start on the demo catalogue, on the Kaggle two-file format (plain and zipped), and with
classes too small to stratify."""
from __future__ import annotations

import json
import time
import zipfile

import joblib
import pandas as pd

import demo_data
import quickstart
from config import Config
from project import read_notes


def test_quickstart_demo_writes_metrics_and_pipeline(project, capsys):
    cfg = Config.for_mode("quickstart", project_root=str(project.root))
    t0 = time.perf_counter()
    m = quickstart.run(cfg, project)
    assert time.perf_counter() - t0 < 60
    assert "DEMO" in capsys.readouterr().out and m["dataset"] == "demo"
    saved = json.loads((project.results / "quickstart_metrics.json").read_text())
    assert set(saved) >= {"accuracy", "macro_f1", "n_train", "n_test", "n_classes", "train_seconds", "device", "dataset"}
    assert 0.5 < saved["accuracy"] <= 1
    pipe = joblib.load(project.models / "quickstart_pipeline.joblib")
    assert pipe.predict(["Acme tote leather shoulder bag purse"])[0] in set(pipe.classes_)
    assert "quickstart-small-classes" in read_notes(project)


def test_quickstart_on_zipped_kaggle_pair_in_raw(project):
    prod, cats = demo_data.make_asaniczka(2500, n_categories=30)
    with zipfile.ZipFile(project.raw / "amazon-products-dataset.zip", "w") as zf:
        zf.writestr("amazon_products.csv", prod.to_csv(index=False))
        zf.writestr("amazon_categories.csv", cats.to_csv(index=False))
    cfg = Config.for_mode("quickstart", project_root=str(project.root), quickstart_sample=2000)
    m = quickstart.run(cfg, project)
    assert m["dataset"].startswith("asaniczka") and m["n_train"] + m["n_test"] <= 2000
    assert m["n_classes"] <= 30
