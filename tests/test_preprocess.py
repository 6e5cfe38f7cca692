"""Cleaning, TextCleaner in a Pipeline, the rare-class rule, split artifacts and idempotence."""
from __future__ import annotations

import json

import pandas as pd
from sklearn.base import clone

import preprocess
import project as project_mod
from config import Config


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
    notes = project_mod.read_notes(project)
    assert "rare-classes" in notes and "tokenization" in notes and "regex tokenizer" in notes["tokenization"] \
        or "nltk word_tokenize" in notes["tokenization"]
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
