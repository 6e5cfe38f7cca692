"""Step 5b (second model): the nearest training titles and the category names, in the hybrid's embedding space.

A title's cfg.neighbours_k nearest training titles (cosine of the hybrid's sentence embeddings)
vote for their categories, each vote weighted by exp(cosine / temperature). The category names,
embedded by the same encoders, add a prior: softmax(cosine(title, name) / temperature). The share
of that prior is chosen among cfg.neighbours_name_weights by leave-one-out on the training rows
(each row scored by its neighbours without itself), on cfg.selection_metric.

Why a second model on the same embeddings: the hybrid's linear SVM needs rows of a category to
learn it; the neighbours follow near-duplicates, variants and re-listings of one product, and a
category's name carries meaning even where it has a handful of rows. Alone it scores below the
hybrid; as a member of Step 8's ensemble it adds what the linear models miss (README benchmark:
nested CV of the ensemble with and without it).

    import neighbours
    model = neighbours.EmbeddingNeighbours(embedders, k=10).fit(texts, y)   # hybrid.SentenceEmbedder(s)
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
    renormalised); the encoders are looked up again at load time, as for the hybrid's Pipeline."""

    def __init__(self, embedders: Sequence = (), k: int = 10, temperature: float = 0.05,
                 name_weights: Sequence[float] = (0.0, 0.25, 0.5, 0.75), metric: str = "accuracy", chunk: int = 1024):
        self.embedders = embedders
        self.k = k
        self.temperature = temperature
        self.name_weights = name_weights
        self.metric = metric
        self.chunk = chunk

    def embed(self, texts) -> np.ndarray:
        texts = [str(t) for t in texts]
        v = np.hstack([np.asarray(e.transform(texts), dtype=np.float32) for e in self.embedders])
        norm = np.linalg.norm(v, axis=1, keepdims=True)
        return np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)

    def fit(self, texts, y):
        from evaluate import scores

        if not self.embedders:
            raise ValueError("EmbeddingNeighbours needs at least one sentence embedder")
        y = np.asarray([str(v) for v in y], dtype=object)
        self.classes_ = np.unique(y)
        index = {c: i for i, c in enumerate(self.classes_)}
        self.labels_ = np.asarray([index[v] for v in y], dtype=np.int64)
        self.vectors_ = self.embed(texts)
        self.name_vectors_ = self.embed(name_text(c) for c in self.classes_)
        # leave-one-out: every training row voted on by its neighbours without itself
        votes = self._votes(self.vectors_, leave_self_out=True)
        prior = self._name_prior(self.vectors_)
        self.loo_scores_ = {}
        for w in self.name_weights:
            pred = self.classes_[((1.0 - w) * votes + w * prior).argmax(axis=1)]
            self.loo_scores_[float(w)] = float(scores(y, pred)[self.metric])
        self.name_weight_ = max(self.loo_scores_, key=lambda w: (self.loo_scores_[w], -w))
        return self

    def predict_proba(self, texts) -> np.ndarray:
        q = self.embed(texts)
        return (1.0 - self.name_weight_) * self._votes(q) + self.name_weight_ * self._name_prior(q)

    def predict(self, texts) -> np.ndarray:
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    def _votes(self, q: np.ndarray, leave_self_out: bool = False) -> np.ndarray:
        """Row-normalised class votes of each query row's k nearest training rows (cosine), a slice
        of query rows at a time on the GPU when there is one (the similarity matrix is the cost)."""
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        bank = torch.from_numpy(self.vectors_).to(device)
        labels = torch.from_numpy(self.labels_).to(device)
        k = max(1, min(int(self.k), len(self.labels_) - (1 if leave_self_out else 0)))
        out = np.zeros((len(q), len(self.classes_)), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(q), self.chunk):
                sims = torch.from_numpy(q[start:start + self.chunk]).to(device) @ bank.T
                if leave_self_out:
                    rows = torch.arange(sims.shape[0], device=device)
                    sims[rows, rows + start] = -float("inf")
                top, idx = sims.topk(k, dim=1)
                weight = torch.exp((top - top[:, :1]) / float(self.temperature))
                votes = torch.zeros(sims.shape[0], len(self.classes_), device=device)
                votes.scatter_add_(1, labels[idx], weight)
                out[start:start + len(votes)] = (votes / votes.sum(dim=1, keepdim=True)).cpu().numpy()
        return out

    def _name_prior(self, q: np.ndarray) -> np.ndarray:
        z = (q @ self.name_vectors_.T) / float(self.temperature)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


def name_text(category: str) -> str:
    """A category label as the encoder reads it: separators such as '>' or '_' as spaces."""
    return " ".join(str(category).replace(">", " ").replace("_", " ").split())


def describe(model: EmbeddingNeighbours) -> str:
    loo = ", ".join(f"{w:g}: {s:.4f}" for w, s in model.loo_scores_.items())
    return (f"{model.k} nearest training titles (cosine, votes x exp(cos/{model.temperature:g})) + category-name "
            f"prior, weight {model.name_weight_:g} chosen by leave-one-out {model.metric} on {len(model.labels_):,} "
            f"train rows ({loo})")
