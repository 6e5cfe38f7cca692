"""Step 5b's embedding neighbours: votes and the name prior against a brute-force computation,
leave-one-out that never lets a row vote for itself, and the saved model on the hybrid's own
tiny-BERT embedders loading back through Step 8's predictor with the same probabilities."""
from __future__ import annotations

import zlib

import joblib
import numpy as np
import pandas as pd
import pytest

import demo_data
import hybrid
import inference
import neighbours
import preprocess
import tiny_model
from config import Config


class WordVectors:
    """A stand-in sentence embedder: the unit sum of a fixed random vector per word."""

    def transform(self, texts):
        out = []
        for text in texts:
            v = np.zeros(32)
            for word in str(text).lower().split():
                v += np.random.default_rng(zlib.crc32(word.encode())).normal(size=32)
            out.append(v / (np.linalg.norm(v) or 1.0))
        return np.asarray(out, dtype=np.float32)


def brute_votes(bank, labels, n_classes, q, k, t, skip=None):
    sims = q @ bank.T
    if skip is not None:
        sims[np.arange(len(q)), skip] = -np.inf
    out = np.zeros((len(q), n_classes))
    for i, row in enumerate(sims):
        top = np.argsort(-row, kind="stable")[:k]
        w = np.exp((row[top] - row[top].max()) / t)
        np.add.at(out[i], labels[top], w)
    return out / out.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def products():
    rng = np.random.default_rng(0)
    kinds = {"Kitchen Knives": ["knife", "chef", "blade", "steel"], "Garden Hoses": ["hose", "garden", "nozzle", "water"],
             "Running Shoes": ["shoe", "running", "trail", "mesh"]}
    rows = []
    for cat, words in kinds.items():
        for _ in range(30):
            rows.append((" ".join(rng.choice(words, 3)) + f" {rng.choice(['pro', 'lite', 'max', 'mini'])}", cat))
    return pd.DataFrame(rows, columns=["text", "category"])


def test_votes_name_prior_and_leave_one_out_match_a_brute_force_computation(products):
    texts, y = products["text"].tolist(), products["category"].to_numpy(object)
    model = neighbours.EmbeddingNeighbours([WordVectors()], ks=(3, 5), temperatures=(0.1, 0.5),
                                           name_weights=(0.0, 0.5, 1.0)).fit(texts, y)
    bank = WordVectors().transform(texts)
    labels = np.searchsorted(model.classes_, y)
    names = WordVectors().transform([neighbours.name_text(c) for c in model.classes_])

    def prior(q, t):
        z = np.exp((q @ names.T) / t)
        return z / z.sum(axis=1, keepdims=True)

    # leave-one-out: the figure every (k, temperature, weight) was chosen on, no row voting for itself
    assert len(model.loo_scores_) == 12
    for (k, t, w), got in model.loo_scores_.items():
        loo = brute_votes(bank, labels, 3, bank, k, t, skip=np.arange(len(y)))
        want = np.mean(model.classes_[((1 - w) * loo + w * prior(bank, t)).argmax(1)] == y)
        assert got == pytest.approx(want), (k, t, w)
    best = max(model.loo_scores_.values())
    assert model.loo_scores_[(model.k_, model.temperature_, model.name_weight_)] == best
    # prediction: every training row may vote, so a training title's own row is its nearest
    queries = ["chef knife steel", "garden nozzle", "trail mesh shoe lite"]
    q = WordVectors().transform(queries)
    k, t, w = model.k_, model.temperature_, model.name_weight_
    want = (1 - w) * brute_votes(bank, labels, 3, q, k, t) + w * prior(q, t)
    got = model.predict_proba(queries)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
    assert list(model.predict(queries)) == ["Kitchen Knives", "Garden Hoses", "Running Shoes"]
    assert "leave-one-out" in neighbours.describe(model)


def test_a_duplicate_title_cannot_vouch_for_itself_in_leave_one_out():
    """One title twice with two labels: left out, each of the two rows is voted on by the other, so
    both are wrong; were a row's own vector among its neighbours, it would tie and one would be right."""
    texts = ["usb cable black", "usb cable black", "garden hose green", "garden hose blue"]
    y = np.asarray(["Cables", "Hoses", "Hoses", "Hoses"], dtype=object)
    model = neighbours.EmbeddingNeighbours([WordVectors()], ks=(1,), temperatures=(0.05,), name_weights=(0.0,))
    model.fit(texts, y)
    # rows 0 and 1 each see only the other (the other label); rows 2 and 3 each other (the same label)
    assert model.loo_scores_[(1, 0.05, 0.0)] == pytest.approx(0.5)


def test_fit_on_the_hybrids_embedders_saves_and_loads_through_steps_8_predictor(tmp_path):
    df = demo_data.make_catalogue(600, seed=3)
    vc = df["category"].value_counts()
    df = df[df["category"].isin(vc[vc >= 8].index)].reset_index(drop=True)
    texts = preprocess.combine_text(df["product_title"], df["product_description"]).tolist()
    y = df["category"].astype(str).to_numpy(object)
    encoder = tiny_model.build_tiny_bert(texts, tmp_path / "tiny")
    cfg = Config.for_mode("smoke")
    caches = [{}]
    pipe, _ = hybrid.fit(texts, y, cfg, [str(encoder)], caches=caches)
    embedded = len(caches[0])
    model = hybrid.fit_neighbours(pipe, texts, y, cfg)
    # the neighbours reused the hybrid's embeddings: only the category names were new
    assert len(caches[0]) == embedded + len(set(y))
    assert (model.k_, model.temperature_, model.name_weight_) in model.loo_scores_
    assert model.k_ in cfg.neighbours_k and list(model.classes_) == sorted(set(y))
    path = tmp_path / "models" / neighbours.MODEL_FILE
    path.parent.mkdir()
    joblib.dump(model, path)
    saved = joblib.load(path)  # the vectors and the encoders' folders, not the encoders or the text cache
    assert all(not hasattr(e, "_encoder") and getattr(e, "cache", None) is None for e in saved.embedders)
    predictor = inference.BaselinePredictor(path)
    titles, descs = df["product_title"].tolist()[:40], df["product_description"].tolist()[:40]
    np.testing.assert_allclose(predictor.predict_proba(titles, descs), model.predict_proba(texts[:40]), atol=1e-5)
    assert predictor.classes == [str(c) for c in model.classes_]


def test_config_checks_the_neighbours_settings():
    cfg = Config.from_dict({"neighbours_name_weights": "0, 0.5", "neighbours_k": "3,7", "neighbours_temperature": [0.2]})
    assert (cfg.neighbours_name_weights, cfg.neighbours_k, cfg.neighbours_temperature) == ((0.0, 0.5), (3, 7), (0.2,))
    for bad in ({"neighbours_name_weights": (0.0, 1.5)}, {"neighbours_k": (0,)}, {"neighbours_temperature": (0.0,)},
                {"neighbours_k": ()}):
        with pytest.raises(ValueError, match="neighbours"):
            Config(**bad)
