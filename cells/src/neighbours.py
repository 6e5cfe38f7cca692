"""Step 5b (second model): the nearest training titles and the category names, in the hybrid's embedding space.

A title's k nearest training titles (cosine of the hybrid's sentence embeddings) vote for their
categories, each vote weighted by exp(cosine / temperature). The category names, embedded by the
same encoders, add a prior: softmax(cosine(title, name) / temperature). k (cfg.neighbours_k), the
temperature (cfg.neighbours_temperature) and the prior's share (cfg.neighbours_name_weights) are
chosen among their candidates by leave-one-out on the training rows (each row scored by its
neighbours without itself: one similarity pass gives every combination), on cfg.selection_metric.

Why a second model on the same embeddings: the hybrid's linear SVM needs rows of a category to
learn it; the neighbours follow near-duplicates, variants and re-listings of one product, and a
category's name carries meaning even where it has a handful of rows. Alone it scores below the
hybrid; as a member of Step 8's ensemble it adds what the linear models miss (README benchmark:
nested CV of the ensemble with and without it).

    import neighbours
    model = neighbours.EmbeddingNeighbours(embedders).fit(texts, y)   # fitted hybrid.SentenceEmbedder(s)
    model.predict_proba(texts)                                               # raw combined texts in
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

MODEL_FILE = "neighbours.joblib"  # models/neighbours.joblib; Step 8 loads it like a baseline Pipeline


class EmbeddingNeighbours(BaseEstimator, ClassifierMixin):
    """Raw texts in, class probabilities out: k-nearest-neighbour votes mixed with a category-name prior.

    `embedders` are fitted hybrid.SentenceEmbedder objects (their unit vectors are concatenated and
    renormalised); the encoders are looked up again at load time, as for the hybrid's Pipeline.
    k, the temperature and the prior's share are each a list of candidates: fit keeps the
    combination with the best leave-one-out score on the training rows (k_, temperature_, name_weight_)."""

    def __init__(self, embedders: Sequence = (), ks: Sequence[int] = (5, 10, 20, 40),
                 temperatures: Sequence[float] = (0.05, 0.1), name_weights: Sequence[float] = (0.0, 0.25, 0.5, 0.75),
                 metric: str = "accuracy", chunk: int = 1024):
        self.embedders = embedders
        self.ks = ks
        self.temperatures = temperatures
        self.name_weights = name_weights
        self.metric = metric
        self.chunk = chunk

    def embed(self, texts) -> np.ndarray:
        texts = [str(t) for t in texts]
        v = np.hstack([np.asarray(e.transform(texts), dtype=np.float32) for e in self.embedders])
        norm = np.linalg.norm(v, axis=1, keepdims=True)
        return np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)

    @classmethod
    def from_config(cls, embedders: Sequence, cfg) -> "EmbeddingNeighbours":
        """The candidates and the selection metric of the one typed Config."""
        return cls(embedders, ks=cfg.neighbours_k, temperatures=cfg.neighbours_temperature,
                   name_weights=cfg.neighbours_name_weights, metric=cfg.selection_metric)

    def fit(self, texts, y):
        from ensemble import score

        if not self.embedders:
            raise ValueError("EmbeddingNeighbours needs at least one sentence embedder")
        y = np.asarray([str(v) for v in y], dtype=object)
        self.classes_ = np.unique(y)
        index = {c: i for i, c in enumerate(self.classes_)}
        self.labels_ = np.asarray([index[v] for v in y], dtype=np.int64)
        self.vectors_ = self.embed(texts)
        self.name_vectors_ = self.embed(name_text(c) for c in self.classes_)
        # leave-one-out: every training row voted on by its neighbours without itself
        sims, idx = self._nearest(self.vectors_, max(self.ks), leave_self_out=True)
        self.loo_scores_ = {}
        for t in self.temperatures:
            prior = self._name_prior(self.vectors_, t)
            for k in self.ks:
                votes = self._votes(sims, idx, k, t)
                for w in self.name_weights:
                    mix = (1.0 - w) * votes + w * prior
                    self.loo_scores_[(int(k), float(t), float(w))] = score(mix, self.labels_, self.metric)
        # ties: the fewest neighbours, the lowest temperature, the least prior
        best = max(self.loo_scores_, key=lambda c: (self.loo_scores_[c], -c[0], -c[1], -c[2]))
        self.k_, self.temperature_, self.name_weight_ = best
        return self

    def predict_proba(self, texts) -> np.ndarray:
        q = self.embed(texts)
        sims, idx = self._nearest(q, self.k_)
        votes = self._votes(sims, idx, self.k_, self.temperature_)
        return (1.0 - self.name_weight_) * votes + self.name_weight_ * self._name_prior(q, self.temperature_)

    def predict(self, texts) -> np.ndarray:
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def _nearest(self, q: np.ndarray, k: int, leave_self_out: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(cosines, training-row positions) of each query row's k nearest training rows, nearest
        first; a slice of query rows at a time, on the GPU when there is one (the similarity matrix
        is the cost)."""
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        bank = torch.from_numpy(self.vectors_).to(device)
        k = max(1, min(int(k), len(self.labels_) - (1 if leave_self_out else 0)))
        sims_out = np.zeros((len(q), k), dtype=np.float32)
        idx_out = np.zeros((len(q), k), dtype=np.int64)
        with torch.no_grad():
            for start in range(0, len(q), self.chunk):
                sims = torch.from_numpy(q[start:start + self.chunk]).to(device) @ bank.T
                if leave_self_out:
                    rows = torch.arange(sims.shape[0], device=device)
                    sims[rows, rows + start] = -float("inf")
                top, idx = sims.topk(k, dim=1)
                sims_out[start:start + len(top)] = top.cpu().numpy()
                idx_out[start:start + len(top)] = idx.cpu().numpy()
        return sims_out, idx_out

    def _votes(self, sims: np.ndarray, idx: np.ndarray, k: int, temperature: float) -> np.ndarray:
        """Row-normalised class votes of the first k neighbours, each weighted by exp(cos / temperature)."""
        sims, idx = sims[:, :k], idx[:, :k]
        weight = np.exp((sims - sims[:, :1]) / float(temperature))
        votes = np.zeros((len(sims), len(self.classes_)), dtype=np.float64)
        np.add.at(votes, (np.repeat(np.arange(len(sims)), sims.shape[1]), self.labels_[idx].ravel()), weight.ravel())
        return (votes / votes.sum(axis=1, keepdims=True)).astype(np.float32)

    def _name_prior(self, q: np.ndarray, temperature: float) -> np.ndarray:
        z = (q @ self.name_vectors_.T) / float(temperature)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


def name_text(category: str) -> str:
    """A category label as the encoder reads it: separators such as '>' or '_' as spaces."""
    return " ".join(str(category).replace(">", " ").replace("_", " ").split())


def describe(model: EmbeddingNeighbours) -> str:
    top = sorted(model.loo_scores_.items(), key=lambda kv: -kv[1])[:3]
    return (f"{model.k_} nearest training titles (cosine, votes x exp(cos/{model.temperature_:g})) + category-name "
            f"prior, weight {model.name_weight_:g}; k, temperature and weight chosen by leave-one-out {model.metric} "
            f"on {len(model.labels_):,} train rows over {len(model.loo_scores_)} combinations (best: "
            + ", ".join(f"k={k} T={t:g} w={w:g}: {v:.4f}" for (k, t, w), v in top) + ")")
