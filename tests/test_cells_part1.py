"""The Part 1 cell files, executed in order in a plain Python process (as the notebook would),
in smoke mode on the demo catalogue; then the artifacts they leave are checked, and a second
pass proves every step skips instead of duplicating or corrupting anything."""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import joblib
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
CELLS = REPO / "cells"
OWNED = ["00_intro.py", "01_parameters.py", "02_setup_drive.py", "03_install.py", "05_quickstart.py",
         "06_dataset.py", "07_step01_setup.py", "08_step02_eda.py", "09_step03_preprocess.py",
         "10_step04_features.py", "11_step05_baselines.py"]
HEADINGS = {"07_step01_setup.py": "## Step 1 — Problem understanding & setup",
            "08_step02_eda.py": "## Step 2 — Data acquisition & quick EDA",
            "09_step03_preprocess.py": "## Step 3 — Data cleaning & preprocessing",
            "10_step04_features.py": "## Step 4 — Feature representation",
            "11_step05_baselines.py": "## Step 5 — Baseline model training & evaluation"}
HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?P<meta>(?: [a-z_]+=\S+)*)\s*$")
SMALL = {"PC_DEMO_ROWS": "1200", "PC_GRIDSEARCH_SAMPLE": "600", "PC_BASELINE_MAX_TRAIN_ROWS": "800",
         "PC_RF_SAMPLE": "600", "PC_RF_N_ESTIMATORS": "10", "PC_LSTM_SAMPLE": "300", "PC_LSTM_CPU_SAMPLE": "300", "PC_LSTM_EPOCHS": "1",
         "PC_LSTM_BATCH_SIZE": "64", "PC_LSTM_VOCAB": "500", "PC_LSTM_VAL_ROWS": "200", "PC_EMBED_MAX_ROWS": "64"}


def parse(path: Path) -> list[dict]:
    cells, lines = [], path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# %%"), f"{path.name}: text before the first cell"
    for line in lines:
        m = HEADER.match(line) if line.startswith("# %%") else None
        if line.startswith("# %%"):
            assert m, f"{path.name}: bad cell header {line!r}"
            meta = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in m.group("meta").split())}
            cells.append({"markdown": bool(m.group("md")), "meta": meta, "body": []})
        else:
            cells[-1]["body"].append(line)
    return cells


def test_cell_syntax_tags_and_headings():
    tagged = []
    for name in OWNED:
        for c in parse(CELLS / name):
            if c["markdown"]:
                assert all(not ln or ln == "#" or ln.startswith("# ") for ln in c["body"]), name
            if "quickstart" in c["meta"].get("tags", []):
                tagged.append(name)
            # 04_project_code writes the modules; the install cell writes the one it runs
            assert "src" not in c["meta"] or (name, c["meta"]["src"]) == ("03_install.py", "environment.py")
        if name in HEADINGS:
            first = parse(CELLS / name)[0]
            assert first["markdown"] and first["body"][0] == "# " + HEADINGS[name], name
    assert sorted(set(tagged)) == ["00_intro.py", "01_parameters.py", "02_setup_drive.py", "03_install.py",
                                   "05_quickstart.py"]
    params = [c for n in OWNED for c in parse(CELLS / n) if "parameters" in c["meta"].get("tags", [])]
    assert len(params) == 1
    src = "\n".join(params[0]["body"])
    for var in ("RUN_MODE", "DATA_PATH", "SAMPLE_SIZE", "PROJECT_ROOT_OVERRIDE", "FORCE", "MODEL_NAME"):
        assert re.search(rf"^{var} = ", src, re.M), var
    setup = "\n".join(parse(CELLS / "02_setup_drive.py")[1]["body"])
    for line in ("from google.colab import drive", "drive.mount(DRIVE_MOUNT, force_remount=True)",
                 'PROJECT_ROOT = f"{DRIVE_MOUNT}/MyDrive/product_categorization_project"', "if IN_COLAB:"):
        assert line in setup
    assert re.search(r'^DRIVE_MOUNT = "/content/drive" ', src, re.M)
    # the install cell installs environment.EXTRA_PACKAGES, the one list (no copy of it in the cell)
    install = "\n".join(parse(CELLS / "03_install.py")[-1]["body"])
    assert "environment.ensure_packages(in_colab=IN_COLAB)" in install and "EXTRA_PACKAGES" not in install


def run_cells(root: Path, force: bool = False) -> dict:
    ns: dict = {"display": lambda *a, **k: print(*a), "__name__": "__main__"}
    for name in OWNED:
        for c in parse(CELLS / name):
            if c["markdown"]:
                continue
            code = "\n".join(c["body"])
            if "parameters" in c["meta"].get("tags", []):
                exec(code, ns)
                ns.update(RUN_MODE="smoke", PROJECT_ROOT_OVERRIDE=str(root), FORCE=force)
                continue
            exec(compile(code, f"{name}", "exec"), ns)
        if name == "03_install.py":  # what the lead's 04_project_code import cell does
            sys.path.insert(0, str(REPO / "cells" / "src"))
            import setup_run

            ns["cfg"], ns["paths"] = setup_run.init(ns["RUN_MODE"], ns["PROJECT_ROOT"], ns["DATA_PATH"],
                                                    ns["SAMPLE_SIZE"], ns["FORCE"], ns["MODEL_NAME"])
    return ns


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    root = tmp_path_factory.mktemp("cells") / "product_categorization_project"
    old = {k: os.environ.get(k) for k in SMALL}
    os.environ.update(SMALL)
    try:
        ns = run_cells(root)
        yield root, ns
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_cells_produce_every_part1_artifact(executed):
    root, ns = executed
    paths = ns["paths"]
    for rel in ("README.md", "NOTES.md", "requirements.txt", "environment.yml", "run_in_colab.sh",
                "config_colab.yaml", "results/quickstart_metrics.json", "models/quickstart_pipeline.joblib",
                "data/processed/train.csv", "data/processed/val.csv", "data/processed/test.csv",
                "models/label_map.json", "models/tfidf_vectorizer.joblib", "results/metrics_baselines.csv",
                "models/baseline.joblib", "models/lstm.h5", "models/lstm_vocab.json", "results/plots/lstm_training_curve.png",
                "results/plots/top20_categories.png", "results/plots/class_imbalance.png"):
        assert (root / rel).is_file() and (root / rel).stat().st_size > 0, rel
    table = pd.read_csv(root / "results/metrics_baselines.csv")
    import baselines
    import preprocess

    assert list(table.columns) == baselines.METRIC_COLUMNS
    assert list(table["model"]) == ["logreg", "linear_svc", "naive_bayes", "random_forest", "lstm", "hybrid",
                                   "embeddings_logreg"]
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
    assert (root / "models/hybrid_encoders/tiny-bert/config.json").is_file()
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    import lstm

    pred = lstm.LstmPredictor(root / "models/lstm.h5", root / "models/lstm_vocab.json")
    assert pred.predict_proba_clean(test["text_clean"][:4].tolist()).shape == (4, len(labels))
    assert json.loads((root / "models/lstm_vocab.json").read_text())["best_epoch"] >= 1
    notes = (root / "NOTES.md").read_text()
    for key in ("assumptions", "rare-classes", "tokenization", "tfidf", "baseline-subsamples", "hybrid model"):
        assert f"## [{key}]" in notes


def test_second_pass_skips_and_duplicates_nothing(executed, capsys):
    root, _ = executed
    watched = ["data/processed/train.csv", "models/baseline.joblib", "results/metrics_baselines.csv",
               "results/plots/top20_categories.png", "models/tfidf_vectorizer.joblib", "models/hybrid.joblib"]
    before = {r: (root / r).stat().st_mtime_ns for r in watched}
    os.environ.update(SMALL)
    run_cells(root)
    assert before == {r: (root / r).stat().st_mtime_ns for r in watched}
    out = capsys.readouterr().out
    assert out.count("skipping (set FORCE=True to redo)") >= 4
    summary = (root / "summary.txt").read_text()
    for step in ("Step 1 — setup", "Step 2 — data & EDA", "Step 3 — cleaning & split", "Step 4 — TF-IDF features",
                 "Step 5 — baselines", "Step 5b — hybrid model", "Quick Start"):
        assert summary.count(f"## [{step}]") == 1, step
    assert len(pd.read_csv(root / "results/metrics_baselines.csv")) == 7  # Step 5, 5b and 5c rows, none duplicated
    assert "[step5b] complete artifacts already exist" in out
