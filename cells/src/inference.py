"""Step 10: predict a product's category from its title and description.

Loads each model once (a module-level cache of Predictor objects) and returns the top-k
categories with probabilities:
- "baseline": models/baseline.joblib, one sklearn Pipeline on the raw combined text
  (cleaning + TF-IDF + classifier), so serving cannot disagree with training;
- "bert": models/bert_final/ (tokenizer + fine-tuned model). It reads what it was trained on:
  (title, description) pairs or the title alone, as Step 6 decided from the train split and
  stored in its config (`text_pair`); a description sent to a title-only model is ignored.

The model folder comes from PROJECT_ROOT: the `project_root` argument, else the
PROJECT_ROOT environment variable, else this script's own location (src/../).

    python src/inference.py --title "Leather running shoe" --description "Men's trail sneaker" --top-k 3
    python src/inference.py --title "..." --model bert --project-root /content/drive/MyDrive/product_categorization_project

    from inference import predict
    predict("Leather running shoe", "Men's trail sneaker", top_k=3, model="baseline")
    # -> [{"label": "Men's Shoes", "probability": 0.91}, ...]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Optional, Sequence

MAX_TITLE_CHARS = 1000
MAX_DESCRIPTION_CHARS = 10_000
MAX_TOP_K = 50
MODEL_KINDS = ("baseline", "bert")

_CACHE: dict[tuple[str, str], "Predictor"] = {}
_LOCK = threading.Lock()


def in_slices(fn, texts: Sequence[str], rows: int = 20_000):
    """fn over consecutive slices of `texts`, results stacked: Step 5b and Step 8 score 140k-row
    splits, and a pipeline's intermediate matrices (the hybrid's dense embedding columns sit in
    memory twice, as an array and inside the sparse stack) then stay a few hundred MB."""
    import numpy as np

    texts = list(texts)
    if not texts:  # sklearn refuses 0 rows
        return np.asarray([])
    if len(texts) <= rows:
        return np.asarray(fn(texts))
    return np.concatenate([fn(texts[i:i + rows]) for i in range(0, len(texts), rows)])


def project_root(override: Optional[str] = None) -> Path:
    if override:
        return Path(override).resolve()
    env = os.environ.get("PROJECT_ROOT", "")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent


def combine_text(title: str, description: str) -> str:
    """The baseline's input: preprocess.combine_text when present (same as training), else a space join."""
    try:
        from preprocess import combine_text as _combine
    except ImportError:
        return f"{title} {description}".strip()
    return _combine(title, description)


def validate_inputs(title: Any, description: Any, top_k: Any = 3) -> tuple[str, str, int]:
    """Check types and sizes; None description means "no description"."""
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {type(title).__name__}")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise TypeError(f"description must be a string or None, got {type(description).__name__}")
    if not title.strip():
        raise ValueError("title must not be empty")
    if len(title) > MAX_TITLE_CHARS:
        raise ValueError(f"title is {len(title)} characters; the limit is {MAX_TITLE_CHARS}")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise ValueError(f"description is {len(description)} characters; the limit is {MAX_DESCRIPTION_CHARS}")
    if isinstance(top_k, bool) or not isinstance(top_k, int):
        raise TypeError(f"top_k must be an integer, got {type(top_k).__name__}")
    if not 1 <= top_k <= MAX_TOP_K:
        raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}")
    return title, description, top_k


class Predictor:
    """A loaded model: predict_proba(titles, descriptions) -> (n, n_classes) array; .classes names."""

    kind = ""
    classes: list[str]
    inputs = "title + description"  # what the model reads, in words (the API's /health shows it)

    def predict_proba(self, titles: Sequence[str], descriptions: Sequence[str]):
        raise NotImplementedError

    def top_k(self, title: str, description: str, k: int) -> list[dict[str, Any]]:
        import numpy as np

        probs = self.predict_proba([title], [description])[0]
        order = np.argsort(-probs)[: min(k, len(self.classes))]
        return [{"label": str(self.classes[i]), "probability": round(float(probs[i]), 6)} for i in order]


def _weights_for_row_predictions(estimator) -> None:
    """Store linear/NB weight matrices in Fortran order, once, at load time.

    sklearn scores a row as X @ W.T; with W in C order scipy copies the whole (classes x
    200k features) matrix on every call (~160 ms per predict() with 248 classes), while the
    Fortran-ordered W.T is used in place (~1 ms). Predictions are identical.
    """
    import numpy as np

    for attr in ("coef_", "feature_log_prob_"):
        w = getattr(estimator, attr, None)
        if isinstance(w, np.ndarray) and w.ndim == 2:
            setattr(estimator, attr, np.asfortranarray(w))
    children = [step for _, step in getattr(estimator, "steps", [])]
    children += [c.estimator for c in getattr(estimator, "calibrated_classifiers_", [])]
    if getattr(estimator, "estimator", None) is not None:
        children.append(estimator.estimator)
    for child in children:
        _weights_for_row_predictions(child)


class BaselinePredictor(Predictor):
    kind = "baseline"

    def __init__(self, model_path: os.PathLike | str):
        import joblib

        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: run Step 5 (baselines) first")
        src = str(path.resolve().parent.parent / "src")
        if src not in sys.path:  # the pickled Pipeline refers to preprocess.TextCleaner
            sys.path.append(src)
        self.pipeline = joblib.load(path)
        _weights_for_row_predictions(self.pipeline)
        self.path = str(path)
        self.classes = [str(c) for c in self.pipeline.classes_]

    def predict_proba(self, titles, descriptions):
        return in_slices(self._proba, [combine_text(t, d) for t, d in zip(titles, descriptions)])

    def _proba(self, texts):
        import numpy as np

        if hasattr(self.pipeline, "predict_proba"):
            return np.asarray(self.pipeline.predict_proba(texts), dtype=float)
        # Margin-only classifiers (LinearSVC): softmax of the decision function.
        scores = np.asarray(self.pipeline.decision_function(texts), dtype=float)
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)


class BertPredictor(Predictor):
    kind = "bert"

    def __init__(self, model_dir: os.PathLike | str, max_length: Optional[int] = None, batch_size: int = 64):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        import mean_pooling

        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} has no model: run Step 6 (fine-tuning) first")
        self.path = str(path)
        mean_pooling.register()  # a model Step 6 trained on mean pooling has its own model_type
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModelForSequenceClassification.from_pretrained(self.path)
        self.model.eval()
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)
        id2label = self.model.config.id2label
        self.classes = [str(id2label[i]) for i in range(len(id2label))]
        info = path / "training_info.json"
        trained_len = json.loads(info.read_text())["max_length"] if info.is_file() else 128
        self.max_length = int(max_length or trained_len)
        self.batch_size = batch_size
        # Step 6 stores whether the model trained on (title, description) pairs; a model saved
        # before that was recorded gets pairs whenever a description is given (the old behaviour).
        pair = getattr(self.model.config, "text_pair", None)
        self.text_pair = None if pair is None else bool(pair)
        self.inputs = {True: "title + description (tokenizer pair)",
                       False: "title only (trained on titles: a description is ignored)",
                       None: "title + description pair when a description is given"}[self.text_pair]

    def encode(self, titles: Sequence[str], descriptions: Sequence[str], pair: Optional[bool] = None):
        """Tokenise as in training: descriptions as the second segment only for a pair model."""
        if pair is None:
            pair = self.text_pair if self.text_pair is not None else any(d.strip() for d in descriptions)
        return self.tokenizer(list(titles), list(descriptions) if pair else None, truncation=True,
                              max_length=self.max_length, padding=True, return_tensors="pt")

    def predict_proba(self, titles, descriptions):
        import numpy as np
        import torch

        titles, descriptions = list(titles), list(descriptions)
        pair = self.text_pair if self.text_pair is not None else any(d.strip() for d in descriptions)
        # Sorting by length keeps padding per batch small; results are put back in order.
        order = np.argsort([len(t) + len(d) for t, d in zip(titles, descriptions)])
        out = np.zeros((len(titles), len(self.classes)), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                enc = self.encode([titles[i] for i in idx], [descriptions[i] for i in idx], pair)
                enc = {k: v.to(self.device) for k, v in enc.items()}
                logits = self.model(**enc).logits.float()
                out[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
        return out


def model_location(kind: str, root: Path) -> Path:
    return root / "models" / ("baseline.joblib" if kind == "baseline" else "bert_final")


def get_predictor(model: str = "baseline", project_root_dir: Optional[str] = None) -> Predictor:
    """The cached Predictor for `model` under PROJECT_ROOT (loaded on first use only)."""
    if model not in MODEL_KINDS:
        raise ValueError(f"model must be one of {MODEL_KINDS}, got {model!r}")
    root = project_root(project_root_dir)
    key = (model, str(root))
    with _LOCK:
        if key not in _CACHE:
            loc = model_location(model, root)
            _CACHE[key] = BaselinePredictor(loc) if model == "baseline" else BertPredictor(loc)
        return _CACHE[key]


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def predict(title: str, description: Optional[str] = "", top_k: int = 3, model: str = "baseline",
            project_root_dir: Optional[str] = None) -> list[dict[str, Any]]:
    """Top-k categories for one product: [{"label": str, "probability": float}, ...], best first."""
    title, description, top_k = validate_inputs(title, description, top_k)
    return get_predictor(model, project_root_dir).top_k(title, description, top_k)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description="Predict Amazon product categories (JSON on stdout).")
    p.add_argument("--title", required=True)
    p.add_argument("--description", default="")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--model", choices=MODEL_KINDS, default="baseline")
    p.add_argument("--project-root", default=None, help="default: $PROJECT_ROOT, else the folder above src/")
    args = p.parse_args(argv)
    try:
        preds = predict(args.title, args.description, args.top_k, args.model, args.project_root)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(json.dumps({"error": str(exc)}), file=sys.stderr)
        return 2
    print(json.dumps({"model": args.model, "title": args.title, "predictions": preds}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
