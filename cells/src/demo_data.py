"""Built-in, clearly labelled DEMO product catalogues (synthetic, deterministic).

Used when no real data is present (Quick Start, CI) and by the scale benchmark. They
imitate what makes the real Amazon data hard: multi-word category names, long-tailed
class sizes with a few rare classes, titles with numbers/sizes, descriptions with HTML
noise or missing entirely, and a few exact duplicate rows.

    import demo_data
    df = demo_data.make_catalogue(3000)                 # plain schema
    products, categories = demo_data.make_asaniczka(5000) # Kaggle asaniczka schema
    demo_data.write_asaniczka("/tmp/raw", 1_400_000)     # chunked, memory-frugal
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

DEMO_LABEL = "built-in DEMO catalogue (synthetic, not real Amazon data)"

# Hand-written categories for the small demo: multi-word names, a few shared words
# between neighbours (handbags vs. jewelry) so the task is not trivially separable.
_DEMO_CATEGORIES: dict[str, list[str]] = {
    "Women's Handbags": "tote shoulder bag leather purse crossbody satchel strap zipper clutch women".split(),
    "Women's Jewelry": "necklace pendant earrings sterling silver bracelet gold plated charm women ring".split(),
    "Men's Shoes": "sneakers running shoe leather loafers boots sole lace men walking oxford".split(),
    "Girls' Clothing": "dress girls cotton tutu leggings toddler sleeve shirt skirt pajama".split(),
    "Boys' Clothing": "boys shirt cotton shorts hoodie toddler jeans sleeve jacket pajama".split(),
    "Kitchen & Dining": "knife cutting board skillet nonstick pan spatula mixing bowl kitchen utensil".split(),
    "Toys & Games": "puzzle toy kids game building blocks board plush educational gift".split(),
    "Computers & Tablets": "laptop tablet keyboard mouse usb monitor ssd wireless charger stand".split(),
    "Sports & Outdoors": "yoga mat dumbbell camping tent hiking bottle fitness resistance bands".split(),
    "Beauty & Personal Care": "serum moisturizer lipstick shampoo conditioner skin face cream hair brush".split(),
    "Pet Supplies": "dog cat leash collar pet bed chew toy litter treats".split(),
    "Office Products": "pen notebook stapler desk organizer paper clips binder sticky notes".split(),
    "Automotive Parts & Accessories": "car seat cover wiper blade tire gauge dash cam floor mats".split(),
    "Garden & Outdoor": "garden hose planter pruning shears lawn sprinkler seeds patio outdoor".split(),
    "Home Lighting & Ceiling Fans": "lamp ceiling fan led bulb pendant light chandelier dimmer fixture".split(),
    "Baby Care Products": "baby diaper bottle pacifier stroller blanket newborn teether wipes".split(),
    "Headphones & Earbuds": "headphones earbuds bluetooth noise cancelling wireless over ear mic".split(),
    "Luggage & Travel Gear": "suitcase carry on spinner luggage travel packing cubes duffel".split(),
    "Video Game Consoles & Accessories": "controller console gaming headset charging dock joystick".split(),
    "Health & Household": "vitamins supplement thermometer first aid mask sanitizer".split(),
    "Smart Home: Security Cameras": "security camera doorbell motion night vision indoor".split(),
    "Arts, Crafts & Sewing": "yarn knitting acrylic paint brushes canvas sewing thread".split(),
}
_SHARED = ("premium quality new pack set black white blue red large small size inch "
           "portable durable compatible gift men women kids 2023 edition pro plus").split()
_BRANDS = ("Acme Zenby Norvik Lumo Tarra Qelix Brava Outpost Kiro Veltra Mirra Sola").split()
_HTML = ("<p>{}</p>", "<b>{}</b> &amp; more", "<ul><li>{}</li></ul>", "{} <br/>", "{}")

# Word pieces for the 248 synthetic category names of the scale benchmark.
_ADJ = ("Women's Men's Girls' Boys' Baby Kids' Smart Home Outdoor Kitchen Office Travel "
        "Sports Pet Beauty Health Garden Automotive Industrial Arts Gaming Party Bath Bedding "
        "Camping Fitness Craft Studio Vintage").split()
_NOUN = ("Clothing Shoes Jewelry Accessories Handbags Watches Furniture Lighting Storage "
         "Tools Toys Games Electronics Supplies Decor Appliances Equipment Cameras Audio "
         "Organization Bags Wall Art Safety Care Instruments Gear Parts").split()


def _category_names(n: int, rng: np.random.Generator) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    i = 0
    while len(names) < n:
        a, b = _ADJ[i % len(_ADJ)], _NOUN[(i * 7 + i // len(_ADJ)) % len(_NOUN)]
        name = f"{a} {b}"
        if name in seen:  # long, '&'-joined names like the real "Smart Home: ... and ..." ones
            name = f"{a} {b} & {_NOUN[(i * 3 + 5) % len(_NOUN)]} {i // 30}"
        seen.add(name)
        names.append(name)
        i += 1
    return names


def _pseudo_words(n: int, rng: np.random.Generator) -> np.ndarray:
    syll = np.array(["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "gu",
                     "bri", "tor", "len", "mar", "qui", "xel", "fen", "dra"])
    k = rng.integers(2, 4, size=n)
    parts = rng.choice(syll, size=(n, 3))
    words = np.array(["".join(p[:j]) for p, j in zip(parts, k)])
    return np.unique(words)


def _class_sizes(n_rows: int, n_classes: int, rng: np.random.Generator, n_rare: int) -> np.ndarray:
    """Long-tailed (Zipf-like) sizes summing to n_rows, with `n_rare` classes of 1-3 rows."""
    w = 1.0 / np.arange(1, n_classes + 1) ** 0.8
    w = rng.permutation(w)
    sizes = np.maximum(np.floor(w / w.sum() * n_rows).astype(int), max(1, min(5, n_rows // n_classes)))
    rare = rng.choice(n_classes, size=min(n_rare, n_classes), replace=False)
    sizes[rare] = rng.integers(1, 4, size=len(rare))
    diff = n_rows - sizes.sum()
    if diff >= 0:
        sizes[np.argmax(sizes)] += diff
        return sizes
    # a small catalogue can't give every class its minimum: trim the largest classes first
    for floor in (1, 0):
        for i in np.argsort(-sizes, kind="stable"):
            take = min(-diff, sizes[i] - floor)
            sizes[i] -= take
            diff += take
            if diff == 0:
                return sizes
    return sizes


def _titles(labels: np.ndarray, vocab: list[np.ndarray], shared: np.ndarray,
            rng: np.random.Generator, own: tuple = (0.45, 0.8)) -> np.ndarray:
    """Vectorised title generation: brand + category words + shared words + a size."""
    n = len(labels)
    lengths = rng.integers(6, 22, size=n)
    out = np.empty(n, dtype=object)
    brands = rng.choice(np.array(_BRANDS), size=n)
    sizes = rng.integers(1, 200, size=n)
    own_share = rng.uniform(own[0], own[1], size=n)  # some titles are mostly generic words
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        L = int(lengths[idx].max())
        own = rng.choice(vocab[c], size=(len(idx), L))
        gen = rng.choice(shared, size=(len(idx), L))
        mix = np.where(rng.random((len(idx), L)) < own_share[idx, None], own, gen)
        for j, i in enumerate(idx):
            out[i] = f"{brands[i]} " + " ".join(mix[j, : lengths[i]]) + f", {sizes[i]} Pack"
    return out


def make_catalogue(n_rows: int = 3000, seed: int = 42, missing_desc_frac: float = 0.3) -> pd.DataFrame:
    """Plain-schema demo catalogue: product_title, product_description, category."""
    rng = np.random.default_rng(seed)
    names = list(_DEMO_CATEGORIES)
    sizes = _class_sizes(n_rows, len(names), rng, n_rare=3)
    labels = rng.permutation(np.repeat(np.arange(len(names)), sizes))
    vocab = [np.array(_DEMO_CATEGORIES[c]) for c in names]
    titles = _titles(labels, vocab, np.array(_SHARED), rng, own=(0.1, 0.45))
    desc = np.empty(len(labels), dtype=object)
    tmpl = rng.integers(0, len(_HTML), size=len(labels))
    for i, c in enumerate(labels):
        words = " ".join(rng.choice(vocab[c], size=6)) + " " + " ".join(rng.choice(_SHARED, size=4))
        desc[i] = _HTML[tmpl[i]].format(words)
    desc[rng.random(len(labels)) < missing_desc_frac] = None
    df = pd.DataFrame({"product_title": titles, "product_description": desc,
                       "category": np.array(names, dtype=object)[labels]})
    # Noise the loader and cleaner must cope with: exact duplicates, number-only and
    # HTML-only titles (their cleaned text is empty).
    k = max(3, n_rows // 200)
    df = pd.concat([df, df.iloc[:k]], ignore_index=True)
    df.loc[len(df) - 1 - k, "product_title"] = "12345 678"
    df.loc[len(df) - 2 - k, "product_title"] = "<br/><p></p>"
    return df


def make_asaniczka(n_rows: int = 5000, seed: int = 42, n_categories: int = 248,
                   start_asin: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Demo data in the exact Kaggle asaniczka schema: (amazon_products, amazon_categories)."""
    rng = np.random.default_rng(seed)
    cats = _categories_frame(n_categories, seed)
    products = _asaniczka_chunk(n_rows, cats, rng, start_asin, seed)
    return products, cats


def _categories_frame(n_categories: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    names = _category_names(n_categories, rng)
    # real ids run 1..270 with gaps: keep gaps so the join is really exercised
    ids = np.sort(rng.choice(np.arange(1, int(n_categories * 1.1) + 2), size=n_categories, replace=False))
    return pd.DataFrame({"id": ids, "category_name": names})


def _vocab_for(n_categories: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed + 2)
    words = _pseudo_words(40_000, rng)
    shared = rng.choice(words, size=400, replace=False)
    vocab = [rng.choice(words, size=40, replace=False) for _ in range(n_categories)]
    return vocab, shared


def _asaniczka_chunk(n: int, cats: pd.DataFrame, rng: np.random.Generator, start: int,
                     seed: int, sizes: Optional[np.ndarray] = None) -> pd.DataFrame:
    n_cat = len(cats)
    if sizes is None:
        sizes = _class_sizes(n, n_cat, np.random.default_rng(seed + 3), n_rare=max(1, n_cat // 40))
        labels = rng.permutation(np.repeat(np.arange(n_cat), sizes))
    else:
        labels = rng.choice(n_cat, size=n, p=sizes / sizes.sum())
    vocab, shared = _vocab_for(n_cat, seed)
    titles = _titles(labels, vocab, shared, rng)
    asin = np.char.add("DEMO", np.char.zfill(np.arange(start, start + n).astype(str), 6))
    price = np.round(rng.gamma(2.0, 15.0, size=n), 2).astype(np.float32)
    return pd.DataFrame({
        "asin": asin,
        "title": titles,
        "imgUrl": np.char.add("https://example.invalid/img/", asin),
        "productURL": np.char.add("https://example.invalid/dp/", asin),
        "stars": np.round(rng.uniform(0, 5, size=n), 1).astype(np.float32),
        "reviews": rng.integers(0, 5000, size=n),
        "price": price,
        "listPrice": np.where(rng.random(n) < 0.7, 0.0, price * 1.2).round(2),
        "category_id": cats["id"].to_numpy()[labels],
        "isBestSeller": rng.random(n) < 0.006,
        "boughtInLastMonth": rng.choice([0, 50, 100, 1000], size=n, p=[0.8, 0.1, 0.07, 0.03]),
    })


def write_asaniczka(out_dir: str | os.PathLike, n_rows: int, seed: int = 42,
                    n_categories: int = 248, chunk: int = 100_000) -> tuple[Path, Path]:
    """Write amazon_products.csv + amazon_categories.csv of `n_rows` in chunks (low RAM)."""
    from tqdm.auto import tqdm

    from atomic import atomic_path, atomic_to_csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cats = _categories_frame(n_categories, seed)
    sizes = _class_sizes(n_rows, n_categories, np.random.default_rng(seed + 3), n_rare=max(1, n_categories // 40))
    atomic_to_csv(cats, out / "amazon_categories.csv")
    rng = np.random.default_rng(seed)
    prod = out / "amazon_products.csv"
    with atomic_path(prod) as tmp:
        first = True
        for start in tqdm(range(0, n_rows, chunk), desc="demo catalogue", unit="chunk"):
            n = min(chunk, n_rows - start)
            part = _asaniczka_chunk(n, cats, rng, start, seed, sizes=sizes.astype(float))
            part.to_csv(tmp, mode="w" if first else "a", header=first, index=False)
            first = False
    return prod, out / "amazon_categories.csv"
