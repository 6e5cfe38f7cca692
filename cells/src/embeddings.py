"""Step 4 (BERT part): pooled [CLS] embeddings of title + description, saved as .npy.

For each split (train/val/test, each capped at cfg.embed_max_rows with a stratified
cap, because 1.4M x 768 float32 is 4.3 GB) the cfg.model_name tokenizer + AutoModel
encode the texts in batches (title + description as a pair when the train split has
descriptions, the title alone otherwise: the same rule as Step 6) and the final-layer [CLS]
vectors are written atomically to data/processed/embeddings/{split}.npy (float32), with the
row labels in {split}_labels.npy and the source row numbers in {split}_rows.npy.

Size/time check against the time budget (budget.py): cfg.embed_probe_batches batches are timed
first and the rows that fit Step 4's allowance are embedded (every split cut in proportion,
stratified, never below cfg.embed_min_rows). A model that cannot embed every capped row in
that time, or fails to load or run, gives way to cfg.fallback_model_name (distilbert-base-uncased),
then cfg.cpu_model_name; each switch and cut is recorded in NOTES.md.

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
                pair: bool | None = None) -> np.ndarray:
    """[CLS] vectors for df's titles, with its descriptions as the second segment when `pair`
    (None: when df has any description)."""
    import torch
    from tqdm.auto import tqdm

    from finetune import uses_pairs

    titles = df["product_title"].astype(str).tolist()
    pair = uses_pairs(df) if pair is None else pair
    descs = df["product_description"].astype(str).tolist() if pair else None
    out = np.zeros((len(titles), model.config.hidden_size), dtype=np.float32)
    model.eval().to(device)
    with torch.no_grad():
        for start in tqdm(range(0, len(titles), batch_size), desc=desc):
            sl = slice(start, start + batch_size)
            enc = tokenizer(titles[sl], descs[sl] if descs else None, truncation=True, max_length=max_length,
                            padding=True, return_tensors="pt").to(device)
            # fp16 autocast roughly triples GPU throughput; the vectors are stored as float32 anyway.
            with torch.autocast("cuda", dtype=torch.float16, enabled=device == "cuda"):
                hidden = model(**enc).last_hidden_state
            out[sl] = hidden[:, 0, :].float().cpu().numpy()
    return out


def seconds_per_row(tokenizer, model, df, batch_size: int, max_length: int, device: str, batches: int,
                    pair: bool | None = None) -> float:
    """Measured embedding time per row: `batches` batches of df's rows, after one warm-up batch
    (the first pays for lazy initialisation)."""
    n = min(len(df), batch_size * (batches + 1))
    head = df.iloc[:n]
    embed_frame(tokenizer, model, head.iloc[:batch_size], batch_size, max_length, device, desc="probe warm-up",
                pair=pair)
    rest = head.iloc[batch_size:] if n > batch_size else head
    t0 = time.perf_counter()
    embed_frame(tokenizer, model, rest, batch_size, max_length, device, desc="probe", pair=pair)
    return (time.perf_counter() - t0) / max(1, len(rest))


def run(cfg, paths) -> dict[str, Any]:
    """Extract and save [CLS] embeddings for the capped splits (skips when all files exist)."""
    from pathlib import Path

    import torch

    import budget
    import fallback
    import finetune
    from project import atomic_path, atomic_write_json, log_summary, should_skip
    from sampling import stratified_cap
    from splits import load_split

    out_dir = paths.embeddings
    out_dir.mkdir(parents=True, exist_ok=True)
    meta_path = out_dir / "meta.json"
    files = [out_dir / f"{s}.npy" for s in SPLITS] + [meta_path]
    if should_skip(cfg.force, "Step 4 (BERT embeddings)", *files):
        return {**json.loads(meta_path.read_text(encoding="utf-8")), "skipped": True}
    full = {s: load_split(paths, s) for s in SPLITS}
    pair = finetune.uses_pairs(full["train"])
    frames = {s: stratified_cap(full[s], int(cfg.embed_max_rows), cfg.seed) for s in SPLITS}
    del full
    total_rows = sum(len(f) for f in frames.values())
    device = "cuda" if torch.cuda.is_available() else "cpu"
    vocab_texts = frames["train"]["product_title"].tolist() + frames["train"]["product_description"].tolist()
    models = list(dict.fromkeys([cfg.model_name, cfg.fallback_model_name, cfg.cpu_model_name]))
    plan = [{"model_name": m, "batch_size": int(cfg.embed_batch_size), "grad_accum": 1, "use_cpu": device == "cpu",
             "why": "requested model" if i == 0 else "a faster model after a failure or a too-slow measurement"}
            for i, m in enumerate(m for m in models if m)]
    b = budget.current(cfg, paths)
    with b.step("embeddings") as st:

        def attempt(settings):
            name = finetune.resolve_model(settings["model_name"], paths, vocab_texts)
            tok, model = load_encoder(name)
            bs = int(settings["batch_size"])
            per_row = seconds_per_row(tok, model, frames["train"], bs, int(cfg.max_length), device,
                                      int(cfg.embed_probe_batches), pair)
            rate = budget.per_second(1, per_row, "rows")
            st.rate(f"{Path(name).name} [CLS] embedding on {device}", rate)
            faster = models[models.index(settings["model_name"]) + 1:]
            if st.left() < total_rows * per_row and faster:
                raise fallback.TooSlowError(
                    f"{settings['model_name']} embeds {rate}: {total_rows:,} rows need ~{total_rows * per_row / 60:.1f} "
                    f"min, {st.left() / 60:.1f} min of Step 4's time budget are left")
            fit = st.rows_that_fit(per_row, cap=total_rows, minimum=int(cfg.embed_min_rows), record=False)
            used = frames
            if fit < total_rows:
                used = {s: stratified_cap(f, max(1, round(len(f) * fit / total_rows)), cfg.seed)
                        for s, f in frames.items()}
                st.cut(f"rows embedded: {sum(len(f) for f in used.values()):,} of {total_rows:,} "
                       f"({st.allowance / 60:.1f} min allowed; {rate})")
            t0 = time.time()
            arrays = {s: embed_frame(tok, model, used[s], bs, int(cfg.max_length), device, desc=f"embed {s}", pair=pair)
                      for s in SPLITS}
            return name, arrays, time.time() - t0, used

        res = fallback.run_with_fallbacks(attempt, plan, paths=paths, topic="fallbacks: Step 4 BERT embeddings")
    name, arrays, seconds, used = res.value
    for s in SPLITS:
        for suffix, arr in (("", arrays[s]), ("_labels", used[s]["label"].to_numpy(dtype=np.int64)),
                            ("_rows", used[s].index.to_numpy(dtype=np.int64))):
            with atomic_path(out_dir / f"{s}{suffix}.npy") as tmp:
                np.save(tmp, arr)
    meta = {"model_name": res.settings["model_name"], "model_path": name, "dim": int(arrays["train"].shape[1]),
            "rows": {s: int(arrays[s].shape[0]) for s in SPLITS},
            "rows_available": {s: len(frames[s]) for s in SPLITS}, "seconds": round(seconds, 1), "device": device,
            "pooling": "CLS", "max_length": int(cfg.max_length), "text_pair": bool(pair),
            "time_budget": {"allowed_seconds": round(st.allowance, 1), "cuts": list(st.cuts), "rates": dict(st.rates)},
            "fallbacks": [{"kind": h["kind"], "error": h["error"]} for h in res.history]}
    atomic_write_json(meta_path, meta)  # written last: it marks the set as complete
    log_summary(paths, "Step 4 — BERT embeddings",
                f"{res.settings['model_name']} [CLS] embeddings ({meta['dim']} dims) for "
                f"{meta['rows']} rows in {meta['seconds']} s on {device}: {out_dir}")
    return {**meta, "skipped": False, "dir": str(out_dir)}
