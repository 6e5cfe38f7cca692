"""Step 4 (BERT part): pooled [CLS] embeddings of title + description, saved as .npy.

For each split (train/val/test, each capped at cfg.embed_max_rows with a stratified
cap, because 1.4M x 768 float32 is 4.3 GB) the cfg.model_name tokenizer + AutoModel
encode the (title, description) pairs in batches and the final-layer [CLS] vectors are
written atomically to data/processed/embeddings/{split}.npy (float32), with the row
labels in {split}_labels.npy and the source row numbers in {split}_rows.npy.

Size/time check: the first cfg.embed_probe_batches batches are timed and the total is
extrapolated; an estimate above cfg.embed_max_seconds, or a model that fails to load or
run, switches to cfg.fallback_model_name (distilbert-base-uncased), recorded in NOTES.md.

    import embeddings
    res = embeddings.run(cfg, paths)
"""
from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

SPLITS = ("train", "val", "test")


def load_encoder(name_or_path: str):
    from transformers import AutoModel, AutoTokenizer

    from fallback import ModelLoadError

    try:
        return AutoTokenizer.from_pretrained(name_or_path), AutoModel.from_pretrained(name_or_path)
    except Exception as exc:
        raise ModelLoadError(f"cannot load {name_or_path!r}: {type(exc).__name__}: {exc}") from exc


def embed_frame(tokenizer, model, df, batch_size: int, max_length: int, device: str, desc: str = "embed",
                probe: int = 0, budget_rows: int = 0, max_seconds: float = 0.0) -> np.ndarray:
    """[CLS] vectors for df's (title, description) pairs. With probe > 0, the first `probe`
    batches are timed and TooSlowError is raised if budget_rows rows would exceed max_seconds."""
    import torch
    from tqdm.auto import tqdm

    from fallback import TooSlowError
    from splits import pair_texts

    titles, descs = pair_texts(df)
    out = np.zeros((len(titles), model.config.hidden_size), dtype=np.float32)
    model.eval().to(device)
    t0 = time.perf_counter()
    with torch.no_grad():
        for b, start in enumerate(tqdm(range(0, len(titles), batch_size), desc=desc)):
            sl = slice(start, start + batch_size)
            enc = tokenizer(titles[sl], descs[sl] if descs else None, truncation=True, max_length=max_length,
                            padding=True, return_tensors="pt").to(device)
            # fp16 autocast roughly triples GPU throughput; the vectors are stored as float32 anyway.
            with torch.autocast("cuda", dtype=torch.float16, enabled=device == "cuda"):
                hidden = model(**enc).last_hidden_state
            out[sl] = hidden[:, 0, :].float().cpu().numpy()
            if probe and b + 1 == probe:
                per_row = (time.perf_counter() - t0) / min(len(titles), (b + 1) * batch_size)
                estimate = per_row * budget_rows
                print(f"[embeddings] {per_row * 1000:.1f} ms/row -> ~{estimate / 60:.1f} min for {budget_rows} rows")
                if max_seconds and estimate > max_seconds:
                    raise TooSlowError(f"estimated {estimate:.0f} s for {budget_rows} rows exceeds "
                                       f"embed_max_seconds={max_seconds:.0f}")
    return out


def run(cfg, paths) -> dict[str, Any]:
    """Extract and save [CLS] embeddings for the capped splits (skips when all files exist)."""
    import torch

    import fallback
    import tiny_model
    from project import atomic_path, atomic_write_json, log_summary, should_skip
    from sampling import stratified_cap
    from splits import load_split

    out_dir = paths.embeddings
    out_dir.mkdir(parents=True, exist_ok=True)
    meta_path = out_dir / "meta.json"
    files = [out_dir / f"{s}.npy" for s in SPLITS] + [meta_path]
    if should_skip(cfg.force, "Step 4 (BERT embeddings)", *files):
        return {**json.loads(meta_path.read_text(encoding="utf-8")), "skipped": True}
    frames = {s: stratified_cap(load_split(paths, s), int(cfg.embed_max_rows), cfg.seed) for s in SPLITS}
    total_rows = sum(len(f) for f in frames.values())
    device = "cuda" if torch.cuda.is_available() else "cpu"
    vocab_texts = frames["train"]["product_title"].tolist() + frames["train"]["product_description"].tolist()
    plan = [{"model_name": m, "batch_size": int(cfg.embed_batch_size), "grad_accum": 1, "use_cpu": device == "cpu",
             "why": "requested model" if i == 0 else "fallback model after a failure or a too-slow estimate"}
            for i, m in enumerate(dict.fromkeys([cfg.model_name, cfg.fallback_model_name]))]

    def attempt(settings):
        name = tiny_model.resolve_one(settings["model_name"], paths, vocab_texts)
        tok, model = load_encoder(name)
        t0 = time.time()
        arrays = {}
        for s in SPLITS:
            probe = int(cfg.embed_probe_batches) if s == "train" else 0
            arrays[s] = embed_frame(tok, model, frames[s], int(settings["batch_size"]), int(cfg.max_length), device,
                                    desc=f"embed {s}", probe=probe, budget_rows=total_rows,
                                    max_seconds=float(cfg.embed_max_seconds))
        return name, arrays, time.time() - t0

    res = fallback.run_with_fallbacks(attempt, plan, paths=paths, topic="fallbacks: Step 4 BERT embeddings")
    name, arrays, seconds = res.value
    for s in SPLITS:
        for suffix, arr in (("", arrays[s]), ("_labels", frames[s]["label"].to_numpy(dtype=np.int64)),
                            ("_rows", frames[s].index.to_numpy(dtype=np.int64))):
            with atomic_path(out_dir / f"{s}{suffix}.npy") as tmp:
                np.save(tmp, arr)
    meta = {"model_name": res.settings["model_name"], "model_path": name, "dim": int(arrays["train"].shape[1]),
            "rows": {s: int(arrays[s].shape[0]) for s in SPLITS}, "seconds": round(seconds, 1), "device": device,
            "pooling": "CLS", "max_length": int(cfg.max_length),
            "fallbacks": [{"kind": h["kind"], "error": h["error"]} for h in res.history]}
    atomic_write_json(meta_path, meta)  # written last: it marks the set as complete
    log_summary(paths, "Step 4 — BERT embeddings",
                f"{res.settings['model_name']} [CLS] embeddings ({meta['dim']} dims) for "
                f"{meta['rows']} rows in {meta['seconds']} s on {device}: {out_dir}")
    return {**meta, "skipped": False, "dir": str(out_dir)}
