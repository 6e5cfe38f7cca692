"""Cleaning, TextCleaner in a Pipeline, the rare-class rule, split artifacts and idempotence."""
from __future__ import annotations

import json

import pandas as pd
from sklearn.base import clone

import preprocess
from config import Config
from runlog import read_notes


def test_cleaning_toggles_and_text_cleaner_are_the_same_cleaning():
    raw = ["<p>Women's USB-C 2-Pack &amp; the Charger 1080p</p>", "12345 678", "<br/>", None]
    out = preprocess.clean_texts(raw)
    assert out[0] == "women usb-c 2-pack charger 1080p" and out[1:] == ["", "", ""]
    # remove_numbers drops numbers, not model numbers, sizes or units
    model = preprocess.clean_texts(["Candy GVS148DC3B Freestanding 8kg Washing Machine, 4K TV $19.99 (2) 1,000 50%"])
    assert model == ["candy gvs148dc3b freestanding 8kg washing machine 4k tv"]
    assert preprocess.clean_texts(["3.5mm jack, 1/2-inch, 10x12 frame. 2 pack"]) == ["3.5mm jack 1/2-inch 10x12 frame pack"]
    keep = preprocess.clean_series(pd.Series(raw[:1]), remove_numbers=False, remove_stopwords=False).iloc[0]
    assert "1080p" in keep and "the" in keep
    tc = preprocess.TextCleaner(apply_lemmatization=True)
    assert clone(tc).get_params() == tc.get_params()  # sklearn-compatible, stateless
    assert list(tc.fit([]).transform(["Running shoes boxes"])) == ["running shoe box"]
    assert preprocess.combine_text("Mug", None) == "Mug"
    assert preprocess.combine_text(pd.Series(["a", "b"]), pd.Series(["x", None])).tolist() == ["a x", "b"]


def test_run_writes_splits_label_map_notes_and_is_idempotent(project):
    cfg = Config.for_mode("smoke", project_root=str(project.root))
    out = preprocess.run(cfg, project)
    assert out["dropped_empty_after_cleaning"] >= 1 and out["rare_classes"]
    lm = json.loads((project.models / "label_map.json").read_text())
    frames = {s: pd.read_csv(project.processed / f"{s}.csv", keep_default_na=False) for s in ("train", "val", "test")}
    for df in frames.values():
        assert {"product_title", "product_description", "category", "text_clean", "label"} <= set(df.columns)
        assert (df["text_clean"] != "").all()
        assert all(lm["id2label"][str(i)] == c for i, c in zip(df["label"], df["category"]))
    assert set(frames["test"]["category"]) == set(frames["train"]["category"])  # stratified
    notes = read_notes(project)
    rare = out["rare_classes"]
    assert f"{len(rare)} of " in notes["rare-classes"] and all(c in notes["rare-classes"] for c in rare[:60])
    # the note names the route this run took: nltk with its data, or the regex fallback offline
    routes = out["tokenization"][["nltk_backend", "hf_backend"]].iloc[0]
    assert routes["nltk_backend"] in ("nltk word_tokenize + nltk stopwords", "regex tokenizer + sklearn ENGLISH_STOP_WORDS")
    assert f"- nltk/spaCy route: {routes['nltk_backend']}" in notes["tokenization"]
    assert f"- Hugging Face route: {routes['hf_backend']}" in notes["tokenization"]
    stamp = {p: p.stat().st_mtime_ns for p in project.processed.glob("*.csv")}
    again = preprocess.run(cfg, project)
    assert again["skipped"] and stamp == {p: p.stat().st_mtime_ns for p in project.processed.glob("*.csv")}
    summary = project.summary.read_text()
    assert summary.count("Step 3 — cleaning & split") == 1


def test_rare_strategy_other_and_one_row_class(project):
    df = pd.DataFrame({"product_title": [f"red mug {i}" for i in range(30)] + ["blue pen"] + ["green cup"] * 3,
                       "product_description": "", "category": ["Mugs"] * 30 + ["Pens"] + ["Cups"] * 3})
    df["category"] = df["category"].astype("category")
    kept, rare = preprocess.apply_rare_class_rule(df, 4, "other")
    assert rare == ["Cups", "Pens"] and set(kept["category"]) == {"Mugs", "Other"}
    dropped, _ = preprocess.apply_rare_class_rule(df, 4, "drop")
    assert set(dropped["category"]) == {"Mugs"}


def test_no_title_sits_on_both_sides_of_the_split(project):
    """Duplicates per (title, category) are dropped; a title with several categories stays in one split."""
    import numpy as np

    import data

    rng = np.random.default_rng(0)
    rows = []
    for c in range(6):
        for i in range(60):
            rows.append((f"item{c} model{i} widget", f"Cat {c}"))
    shared = [f"shared gadget {i}" for i in range(25)]  # each in two categories, some twice
    for i, t in enumerate(shared):
        rows += [(t, f"Cat {i % 6}"), (t.upper(), f"Cat {(i + 1) % 6}"), (f"  {t} ", f"Cat {i % 6}")]
    rng.shuffle(rows)
    src = project.root.parent / "dups.csv"
    pd.DataFrame(rows, columns=["title", "category"]).to_csv(src, index=False)
    cfg = Config.for_mode("smoke", project_root=str(project.root), data_path=str(src))
    out = preprocess.run(cfg, project)
    assert out["rows_out"] == 360 + 50
    from splits import load_split

    keys = {s: set(data.title_key(load_split(project, s)["product_title"])) for s in ("train", "val", "test")}
    assert not keys["train"] & keys["test"] and not keys["train"] & keys["val"] and not keys["val"] & keys["test"]
    note = read_notes(project)["duplicate-titles"]
    assert "25 of 435 rows were dropped" in note and "25 titles carry more than one category (50 rows)" in note


def test_the_one_split_reader(project):
    """splits.load_split: text verbatim ("NA" stays "NA", blanks ""), numeric blanks NaN, typed label/category."""
    from splits import load_label_map, load_split

    pd.DataFrame({"product_title": ["NA", "mug"], "product_description": ["", "null"], "category": ["K", "O"],
                  "text_clean": ["na", "mug"], "label": [0, 1], "price": [1.5, None]}).to_csv(
        project.processed / "test.csv", index=False)
    (project.models / "label_map.json").write_text(json.dumps(preprocess.label_map(["K", "O"])))
    df = load_split(project, "test")
    assert df["product_title"].tolist() == ["NA", "mug"] and df["product_description"].tolist() == ["", "null"]
    assert pd.isna(df["price"].iloc[1]) and df["price"].iloc[0] == 1.5
    assert df["label"].dtype == "int64" and df["category"].dtype == "category"
    assert list(load_split(project, "test", usecols=["text_clean", "label"]).columns) == ["text_clean", "label"]
    assert load_label_map(project) == ({0: "K", 1: "O"}, {"K": 0, "O": 1})
    import pytest

    with pytest.raises(FileNotFoundError, match="run Step 3"):
        load_split(project, "train")
