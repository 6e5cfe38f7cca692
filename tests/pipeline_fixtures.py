"""Project trees made by the pipeline's own code, small, for the tests of the later steps.

A generated catalogue of a few hundred products (six categories, some titles deliberately
ambiguous) is written to PROJECT_ROOT/data/raw/, where a user's upload goes; `run_steps` then
runs Step 2's loader and Step 3's cleaning and split (preprocess.run, which reads it through
data.load_dataset), and on request Step 4's TF-IDF and Step 5's baselines (baselines.run, the
LSTM included), in smoke mode, exactly as the notebook calls them. The session fixtures in
conftest.py build the shared trees once per test run: `step5_root` (Steps 2-5), `trained_root`
(the same plus Step 6's tiny-BERT fine-tuning) and `titles_root` (titles only, no description
column, Steps 2-3 and 6: its BERT reads titles alone).
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pandas as pd

CATEGORIES = {
    "Men's Shoes": ["sneaker", "running", "leather", "boot", "lace", "sole", "trail", "loafer"],
    "Girls' Clothing": ["dress", "tutu", "cotton", "skirt", "princess", "leggings", "cardigan", "floral"],
    "Toys & Games": ["puzzle", "lego", "board", "game", "blocks", "doll", "plush", "toy"],
    "Kitchen & Dining": ["knife", "skillet", "pan", "spatula", "mug", "blender", "cutting", "kettle"],
    "Women's Handbags": ["tote", "crossbody", "purse", "clutch", "satchel", "wallet", "strap", "handbag"],
    "Computer Accessories": ["usb", "keyboard", "mouse", "hub", "adapter", "monitor", "laptop", "cable"],
}
FILLER = ["premium", "new", "pack", "set", "black", "blue", "large", "small", "gift", "quality", "2023"]
STAGES = ("split", "features", "baselines")  # how far run_steps goes: Step 3, 4 or 5


def catalogue(n: int = 300, seed: int = 0, descriptions: bool = True) -> pd.DataFrame:
    """n products in a Kaggle-like schema; without descriptions there is no description column
    at all, as in the asaniczka dataset."""
    rng = random.Random(seed)
    names = list(CATEGORIES)
    rows = []
    for i in range(n):
        cat = names[i % len(names)]
        words = CATEGORIES[cat]
        # Every third title borrows words from another class, so some test rows are genuinely hard.
        other = CATEGORIES[names[(i + 1 + i // 6) % len(names)]]
        own = 1 if i % 3 == 0 else 3
        title_words = rng.sample(words, own) + rng.sample(FILLER, 2) + (rng.sample(other, 2) if i % 3 == 0 else [])
        rng.shuffle(title_words)
        desc = "" if i % 4 == 0 else " ".join(rng.sample(words, 2) + rng.sample(FILLER, 3)) + "."
        rows.append({"asin": f"B{i:09d}", "product_title": " ".join(title_words).title(),
                     "product_description": desc, "category": cat, "price": round(5 + (i % 50) * 1.7, 2),
                     "stars": round(3 + (i % 20) / 10, 1)})
    df = pd.DataFrame(rows)
    return df if descriptions else df.drop(columns="product_description")


def smoke_cfg(paths, **overrides):
    """The smoke config these tests run with: the 2-epoch tiny BERT and small interpretability sizes."""
    from config import Config

    base = dict(project_root=str(paths.root), num_train_epochs=2.0, n_hard_examples=6, lime_num_samples=100,
                shap_background_rows=60)
    base.update(overrides)
    return Config.for_mode("smoke", **base)


def run_steps(paths, through: str = "split", n: int = 300, seed: int = 0, descriptions: bool = True,
              **cfg_overrides) -> dict:
    """Write the catalogue to data/raw/ and run the real Steps 2-3 (and 4-5) on it; a second call
    with other data re-runs Step 3 (force), as a user who changed the data would."""
    import baselines
    import feature_engineering
    import preprocess
    from splits import load_split

    assert through in STAGES, through
    raw = Path(paths.raw) / "products.csv"
    again = raw.is_file()
    catalogue(n, seed, descriptions).to_csv(raw, index=False)
    cfg = smoke_cfg(paths, force=again, **cfg_overrides)
    out = {"step3": preprocess.run(cfg, paths)}
    if STAGES.index(through) >= 1:
        out["step4"] = feature_engineering.run(cfg, paths)
    if STAGES.index(through) >= 2:
        out["step5"] = baselines.run(cfg, paths)
    out.update({s: load_split(paths, s) for s in ("train", "val", "test")})
    out["labels"] = sorted(out["train"]["category"].astype(str).unique())
    return out


def build_root(tmp_dir, through: str, finetune: bool, descriptions: bool = True) -> str:
    """A PROJECT_ROOT under tmp_dir run through `through` (and Step 6 when finetune)."""
    import finetune as finetune_mod
    import project

    paths = project.make_tree(str(Path(tmp_dir) / "product_categorization_project"))
    run_steps(paths, through, descriptions=descriptions)
    if finetune:
        finetune_mod.run(smoke_cfg(paths, num_train_epochs=2.0 if descriptions else 1.0), paths)
    return str(paths.root)


def copy_project(src_root: str, dst_dir):
    """A private copy of a project tree (tests that change files must not touch the shared one)."""
    import project

    dst = Path(dst_dir) / "product_categorization_project"
    shutil.copytree(src_root, dst)
    return project.make_tree(str(dst))
