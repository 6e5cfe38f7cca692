"""Small, deterministic PROJECT_ROOT fixtures in the Step 3/5 artifact contract (docs/design.md).

Part 2 (Steps 4-BERT, 6-12) must be testable before the real Steps 1-5 exist, so this
builds what they would leave behind: data/processed/{train,val,test}.csv,
models/label_map.json, models/baseline.joblib (one Pipeline on the raw combined text,
classes = category names), models/{logreg,naive_bayes}.joblib,
models/tfidf_vectorizer.joblib and results/metrics_baselines.csv.
"""
from __future__ import annotations

import json
import random

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


def make_rows(n: int = 300, seed: int = 0, descriptions: bool = True) -> pd.DataFrame:
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
        desc = desc if descriptions else ""  # the user's asaniczka data has titles only
        rows.append({"asin": f"B{i:09d}", "product_title": " ".join(title_words).title(),
                     "product_description": desc, "category": cat, "price": round(5 + (i % 50) * 1.7, 2),
                     "stars": round(3 + (i % 20) / 10, 1)})
    return pd.DataFrame(rows)


def combine(title: str, description: str) -> str:
    return f"{title} {description}".strip()


def build_project(paths, n: int = 300, seed: int = 0, with_models: bool = True, descriptions: bool = True) -> dict:
    """Write the processed splits, label map and baseline models into the PROJECT_ROOT at `paths`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline

    from atomic import atomic_joblib_dump, atomic_to_csv, atomic_write_json

    df = make_rows(n, seed, descriptions)
    labels = sorted(df["category"].unique())
    label2id = {c: i for i, c in enumerate(labels)}
    df["label"] = df["category"].map(label2id)
    df["text_clean"] = [combine(t, d).lower() for t, d in zip(df["product_title"], df["product_description"])]
    train, rest = train_test_split(df, test_size=0.3, stratify=df["label"], random_state=42)
    val, test = train_test_split(rest, test_size=0.5, stratify=rest["label"], random_state=42)
    for name, part in (("train", train), ("val", val), ("test", test)):
        atomic_to_csv(part, paths.processed / f"{name}.csv")
    atomic_write_json(paths.models / "label_map.json",
                      {"id2label": {str(i): c for c, i in label2id.items()}, "label2id": label2id})
    out = {"train": train, "val": val, "test": test, "labels": labels}
    if not with_models:
        return out
    x_train = [combine(t, d) for t, d in zip(train["product_title"], train["product_description"])]
    logreg = Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2))), ("clf", LogisticRegression(C=10, max_iter=500))])
    nb = Pipeline([("tfidf", TfidfVectorizer()), ("clf", MultinomialNB())])
    logreg.fit(x_train, train["category"])
    nb.fit(x_train, train["category"])
    atomic_joblib_dump(logreg, paths.models / "baseline.joblib")
    atomic_joblib_dump(logreg, paths.models / "logreg.joblib")
    atomic_joblib_dump(nb, paths.models / "naive_bayes.joblib")
    atomic_joblib_dump(logreg.named_steps["tfidf"], paths.models / "tfidf_vectorizer.joblib")
    atomic_to_csv(pd.DataFrame([
        {"model": "logreg", "accuracy": 0.9, "macro_f1": 0.9},
        {"model": "naive_bayes", "accuracy": 0.8, "macro_f1": 0.8},
        {"model": "lstm", "accuracy": 0.7, "macro_f1": 0.7},
    ]), paths.results / "metrics_baselines.csv")
    out["baseline"] = logreg
    return out


# --- a trained project shared by the tests of Steps 8-12 ---------------------------------

_TRAINED: dict[str, str] = {}


def smoke_cfg(paths, **overrides):
    from config import Config

    base = dict(project_root=str(paths.root), num_train_epochs=2.0, n_hard_examples=6, lime_num_samples=100,
                shap_background_rows=60)
    base.update(overrides)
    return Config.for_mode("smoke", **base)


def trained_root(tmp_path_factory) -> str:
    """A PROJECT_ROOT with the fixture data, baselines and a fine-tuned tiny BERT (built once per run)."""
    if "root" not in _TRAINED:
        import finetune
        import project

        paths = project.make_tree(str(tmp_path_factory.mktemp("trained") / "product_categorization_project"))
        build_project(paths)
        finetune.run(smoke_cfg(paths), paths)
        _TRAINED["root"] = str(paths.root)
    return _TRAINED["root"]


def titles_only_root(tmp_path_factory) -> str:
    """Like trained_root, on titles alone (no row has a description): its BERT reads titles only."""
    if "titles" not in _TRAINED:
        import finetune
        import project

        paths = project.make_tree(str(tmp_path_factory.mktemp("titles") / "product_categorization_project"))
        build_project(paths, descriptions=False)
        finetune.run(smoke_cfg(paths, num_train_epochs=1.0), paths)
        _TRAINED["titles"] = str(paths.root)
    return _TRAINED["titles"]


def copy_project(src_root: str, dst_dir) -> "object":
    """A private copy of a project tree (tests that change files must not touch the shared one)."""
    import shutil
    from pathlib import Path

    import project

    dst = Path(dst_dir) / "product_categorization_project"
    shutil.copytree(src_root, dst)
    return project.make_tree(str(dst))
