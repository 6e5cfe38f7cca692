"""The built notebook's cells from the top through Step 5, executed in order in a plain Python
process (as the notebook would run them) in smoke mode on the demo catalogue: the artifacts they
leave are checked, and a second pass proves every step skips instead of duplicating or corrupting
anything. The %%writefile cells write their modules to SRC_DIR, as in Colab."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from notebook_cells import by_file, tags, written_module

LAST_FILE = "step05_baselines"
SMALL = {"PC_DEMO_ROWS": "1200", "PC_GRIDSEARCH_SAMPLE": "600", "PC_BASELINE_MAX_TRAIN_ROWS": "800",
         "PC_RF_SAMPLE": "600", "PC_RF_N_ESTIMATORS": "10", "PC_LSTM_SAMPLE": "300", "PC_LSTM_CPU_SAMPLE": "300", "PC_LSTM_EPOCHS": "1",
         "PC_LSTM_BATCH_SIZE": "64", "PC_LSTM_VOCAB": "500", "PC_LSTM_VAL_ROWS": "200", "PC_EMBED_MAX_ROWS": "64"}


def cells_through_step5(nb) -> list:
    files = by_file(nb)
    names = list(files)
    return [c for name in names[: names.index(LAST_FILE) + 1] for c in files[name] if c.cell_type == "code"]


def run_cells(nb, root: Path, force: bool = False) -> dict:
    ns: dict = {"display": lambda *a, **k: print(*a), "__name__": "__main__"}
    saved_path = list(sys.path)
    try:
        for cell in cells_through_step5(nb):
            module = written_module(cell)
            if module:
                target = Path(ns["SRC_DIR"]) / module
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(cell.source.split("\n", 1)[1], encoding="utf-8")
                continue
            exec(compile(cell.source, cell.id, "exec"), ns)
            if "parameters" in tags(cell):
                ns.update(RUN_MODE="smoke", PROJECT_ROOT_OVERRIDE=str(root), FORCE=force)
    finally:
        sys.path[:] = saved_path  # the import cell put PROJECT_ROOT/src first; later tests import cells/src
    return ns


@pytest.fixture(scope="module")
def executed(built_notebook, tmp_path_factory):
    root = tmp_path_factory.mktemp("cells") / "product_categorization_project"
    old = {k: os.environ.get(k) for k in SMALL}
    os.environ.update(SMALL)
    try:
        ns = run_cells(built_notebook, root)
        yield root, ns
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_cells_leave_every_artifact_of_steps_1_to_5(executed):
    root, ns = executed
    paths = ns["paths"]
    for rel in ("README.md", "NOTES.md", "requirements.txt", "environment.yml", "run_in_colab.sh",
                "config_colab.yaml", "results/quickstart_metrics.json", "models/quickstart_pipeline.joblib",
                "data/processed/train.csv", "data/processed/val.csv", "data/processed/test.csv",
                "models/label_map.json", "models/tfidf_vectorizer.joblib", "results/metrics_baselines.csv",
                "models/baseline.joblib", "models/lstm.h5", "models/lstm_bag.joblib", "models/lstm_vocab.json", "results/plots/lstm_training_curve.png",
                "results/plots/top20_categories.png", "results/plots/class_imbalance.png"):
        assert (root / rel).is_file() and (root / rel).stat().st_size > 0, rel
    table = pd.read_csv(root / "results/metrics_baselines.csv")
    import baselines
    import preprocess

    assert list(table.columns) == baselines.METRIC_COLUMNS
    assert list(table["model"]) == ["logreg", "linear_svc", "naive_bayes", "random_forest", "lstm", "hybrid",
                                   "neighbours", "embeddings_logreg"]
    assert table[["accuracy", "macro_f1", "weighted_f1", "val_accuracy"]].apply(lambda c: c.between(0, 1)).all().all()
    grid = table.set_index("model").loc[["logreg", "linear_svc", "naive_bayes"]]
    assert grid["cv_mean"].between(0, 1).all() and grid["selected"].str.match(r"^(C|alpha)=").all()
    labels = set(json.loads((root / "models/label_map.json").read_text())["label2id"])
    from splits import load_split

    test = load_split(paths, "test")
    text = preprocess.combine_text(test["product_title"], test["product_description"])
    best = joblib.load(root / "models/baseline.joblib")
    assert [n for n, _ in best.steps] == ["features", "clf"]
    pred = best.predict(text)
    assert set(pred) <= labels and (pred == test["category"].astype(str)).mean() > 0.5
    for f in baselines.MODEL_FILES.values():
        pipe = joblib.load(root / "models" / f)
        assert set(pipe.classes_) <= labels and pipe.predict_proba(text[:3]).shape[0] == 3
    hybrid = joblib.load(root / "models/hybrid.joblib")  # encoder found again from the saved folder
    assert [n for n, _ in hybrid.steps] == ["features", "clf"]
    proba = hybrid.predict_proba(text[:5].tolist())
    assert proba.shape[0] == 5 and set(hybrid.classes_) <= labels
    near = joblib.load(root / "models/neighbours.joblib")  # the same encoder folder, the same rows' vectors
    proba = near.predict_proba(text[:5].tolist())
    assert proba.shape == (5, len(near.classes_)) and set(near.classes_) <= labels
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5) and near.name_weight_ in near.name_weights
    assert (root / "models/hybrid_encoders/tiny-bert/config.json").is_file()
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    import lstm

    pred = lstm.LstmPredictor(root / "models/lstm.h5", root / "models/lstm_vocab.json")
    assert pred.predict_proba_clean(test["text_clean"][:4].tolist()).shape == (4, len(labels))
    assert json.loads((root / "models/lstm_vocab.json").read_text())["best_epoch"] >= 0  # 0: the bag alone
    notes = (root / "NOTES.md").read_text()
    for key in ("assumptions", "rare-classes", "tokenization", "tfidf", "baseline-subsamples", "hybrid model",
                "neighbours model"):
        assert f"## [{key}]" in notes


def test_second_pass_skips_and_duplicates_nothing(built_notebook, executed, capsys):
    root, _ = executed
    watched = ["data/processed/train.csv", "models/baseline.joblib", "results/metrics_baselines.csv",
               "results/plots/top20_categories.png", "models/tfidf_vectorizer.joblib", "models/hybrid.joblib",
               "models/neighbours.joblib"]
    before = {r: (root / r).stat().st_mtime_ns for r in watched}
    os.environ.update(SMALL)
    run_cells(built_notebook, root)
    assert before == {r: (root / r).stat().st_mtime_ns for r in watched}
    out = capsys.readouterr().out
    assert out.count("skipping (set FORCE=True to redo)") >= 4
    summary = (root / "summary.txt").read_text()
    for step in ("Step 1 — setup", "Step 2 — data & EDA", "Step 3 — cleaning & split", "Step 4 — TF-IDF features",
                 "Step 5 — baselines", "Step 5b — hybrid model", "Quick Start"):
        assert summary.count(f"## [{step}]") == 1, step
    assert len(pd.read_csv(root / "results/metrics_baselines.csv")) == 8  # Step 5, 5b and 5c rows, none duplicated
    assert "[step5b] complete artifacts already exist" in out
