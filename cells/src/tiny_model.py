"""A tiny BERT built offline, so CI and smoke runs exercise the real transformer code path.

Colab downloads `bert-base-uncased` from the Hub; CI has no internet. With
`cfg.model_name == "tiny-bert"` (smoke mode) this module trains a WordPiece tokenizer on
the training texts with the `tokenizers` package, builds a randomly initialised BERT
(hidden 64, 2 layers, 2 heads) and saves both with `save_pretrained` to
PROJECT_ROOT/models/tiny-bert. Every later step then calls
`AutoTokenizer.from_pretrained(path)` / `AutoModelForSequenceClassification.from_pretrained(path)`,
exactly as it would with a Hub name.

    import tiny_model
    name_or_path = tiny_model.resolve_model_name(cfg, paths, texts)
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Optional

TINY_NAME = "tiny-bert"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tiny_dir(paths) -> Path:
    return paths.models / TINY_NAME


def is_built(path: os.PathLike | str) -> bool:
    p = Path(path)
    return (p / "config.json").is_file() and (p / "tokenizer_config.json").is_file() and (
        (p / "model.safetensors").is_file() or (p / "pytorch_model.bin").is_file())


def build_tiny_bert(texts: Iterable[str], out_dir: os.PathLike | str, vocab_size: int = 3000,
                    seed: int = 42, max_position_embeddings: int = 512) -> str:
    """Train a WordPiece vocab on `texts`, build a small random BertModel, save both to out_dir."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizer

    from atomic import give_default_mode

    texts = [str(t) for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise ValueError("build_tiny_bert needs at least one non-empty training text")
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built in a temp dir and renamed, so a killed build never looks like a finished model.
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        wp = BertWordPieceTokenizer(lowercase=True)
        wp.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=1, special_tokens=SPECIAL_TOKENS,
                               show_progress=False)
        wp.save_model(str(tmp))
        tokenizer = BertTokenizer(vocab=str(tmp / "vocab.txt"), do_lower_case=True,
                                  model_max_length=max_position_embeddings)
        torch.manual_seed(seed)
        config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=128,
                            max_position_embeddings=max_position_embeddings,
                            pad_token_id=tokenizer.pad_token_id)
        model = BertModel(config)
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        give_default_mode(tmp)  # mkdtemp and safetensors create 0700 / 0600
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return str(out)


def _training_texts(paths) -> list[str]:
    from splits import load_split

    df = load_split(paths, "train", usecols=["product_title", "product_description"])
    return [t for c in ("product_title", "product_description") for t in df[c].tolist()]


def resolve_one(name: str, paths, texts: Optional[Iterable[str]] = None) -> str:
    """A Hub name or local folder as is; "tiny-bert" -> the local tiny model (built on first use)."""
    if name != TINY_NAME:
        return name
    target = tiny_dir(paths)
    if not is_built(target):
        build_tiny_bert(texts if texts is not None else _training_texts(paths), target)
    return str(target)


def resolve_model_name(cfg, paths, texts: Optional[Iterable[str]] = None) -> str:
    """What to pass to from_pretrained for cfg.model_name (a local path in smoke mode)."""
    return resolve_one(cfg.model_name, paths, texts)
