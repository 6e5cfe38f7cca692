"""Step 7: Optuna hyperparameter search for the TF-IDF baseline or for BERT.

`cfg.tune_bert` switches the target:
- False (default): TF-IDF + LogisticRegression on a stratified cfg.tune_sample subsample of
  train (`text_clean`), searching C, the n-gram range and min_df; scored by macro-F1 on val.
  Seconds per trial, so the full cfg.n_trials fit even on CPU.
- True: BERT short runs through `Trainer.hyperparameter_search` (Optuna backend, a fresh
  model per trial via model_init) over learning rate, batch size, epochs and weight
  decay, on cfg.tune_bert_train_rows training rows; scored by validation macro-F1.
Results: experiments/optuna_results.json (every trial) and experiments/optuna_history.png.
The best values are printed as config overrides; apply them and re-run Step 6 with FORCE.

    import tuning
    res = tuning.run(cfg, paths)
"""
from __future__ import annotations

import time
from typing import Any


def _trials_table(study) -> list[dict[str, Any]]:
    return [{"number": t.number, "value": t.value, "params": t.params, "state": t.state.name,
             "seconds": (t.datetime_complete - t.datetime_start).total_seconds()
             if t.datetime_complete and t.datetime_start else None} for t in study.trials]


def plot_history(trials: list[dict[str, Any]], path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from project import atomic_savefig

    done = [t for t in trials if t["value"] is not None]
    xs = [t["number"] for t in done]
    ys = [t["value"] for t in done]
    best, best_so_far = float("-inf"), []
    for y in ys:
        best = max(best, y)
        best_so_far.append(best)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(xs, ys, label="trial macro-F1", zorder=3)
    ax.step(xs, best_so_far, where="post", color="tab:red", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("validation macro-F1")
    ax.set_title(title, fontsize=10)
    ax.legend()
    ax.grid(alpha=0.3)
    atomic_savefig(fig, path)
    plt.close(fig)


def tune_baseline(cfg, paths) -> tuple[Any, dict[str, Any]]:
    import optuna
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from tqdm.auto import tqdm

    from sampling import stratified_cap
    from splits import load_split

    train = stratified_cap(load_split(paths, "train"), int(cfg.tune_sample), cfg.seed)
    val = stratified_cap(load_split(paths, "val"), max(1, int(cfg.tune_sample) // 4), cfg.seed)
    x_tr, y_tr = train["text_clean"].tolist(), train["category"].tolist()
    x_va, y_va = val["text_clean"].tolist(), val["category"].tolist()

    def objective(trial):
        ngram = trial.suggest_int("ngram_max", 1, 2)
        min_df = trial.suggest_int("min_df", 1, 3)
        c = trial.suggest_float("C", 0.1, 100.0, log=True)
        vec = TfidfVectorizer(ngram_range=(1, ngram), min_df=min_df, sublinear_tf=True,
                              max_features=int(cfg.tfidf_max_features))
        try:
            xt = vec.fit_transform(x_tr)
        except ValueError as exc:  # min_df can prune every term on a tiny sample
            raise optuna.TrialPruned(str(exc)) from exc
        clf = LogisticRegression(C=c, max_iter=1000).fit(xt, y_tr)
        return float(f1_score(y_va, clf.predict(vec.transform(x_va)), average="macro", zero_division=0))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=int(cfg.seed)),
                                study_name="tfidf_logreg")
    with tqdm(total=int(cfg.n_trials), desc="Optuna (TF-IDF)") as bar:
        study.optimize(objective, n_trials=int(cfg.n_trials), callbacks=[lambda s, t: bar.update(1)])
    return study, {"n_train": len(train), "n_val": len(val), "model": "tfidf_logreg"}


def bert_hp_space(trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 1e-4, log=True),
        "per_device_train_batch_size": trial.suggest_categorical("per_device_train_batch_size", [8, 16, 32]),
        "num_train_epochs": trial.suggest_int("num_train_epochs", 1, 3),
        "weight_decay": trial.suggest_float("weight_decay", 0.0, 0.1),
    }


def tune_bert(cfg, paths) -> tuple[Any, dict[str, Any]]:
    import optuna

    import device as device_mod
    import finetune
    from sampling import stratified_cap
    from splits import load_label_map, load_split

    id2label, label2id = load_label_map(paths)
    train = stratified_cap(load_split(paths, "train"), int(cfg.tune_bert_train_rows), cfg.seed)
    val = stratified_cap(load_split(paths, "val"), max(1, int(cfg.tune_bert_train_rows) // 4), cfg.seed)
    info = device_mod.device_info()
    settings = finetune.initial_plan(cfg, info)[0]
    out_dir = paths.experiments / "optuna_bert_runs"
    trainer, _, name = finetune.build_trainer(cfg, paths, settings, train, val, id2label, label2id,
                                              output_dir=str(out_dir), device=info, report_to="none",
                                              save=False, model_init=True)
    storage = optuna.storages.InMemoryStorage()
    trainer.hyperparameter_search(
        hp_space=bert_hp_space, compute_objective=lambda m: m["eval_macro_f1"], n_trials=int(cfg.n_trials),
        direction="maximize", backend="optuna", storage=storage, study_name="bert",
        sampler=optuna.samplers.TPESampler(seed=int(cfg.seed)))
    study = optuna.load_study(study_name="bert", storage=storage)
    return study, {"n_train": len(train), "n_val": len(val), "model": name}


def run(cfg, paths) -> dict[str, Any]:
    """Run the Optuna study chosen by cfg.tune_bert; save every trial as JSON and a history plot."""
    import json

    from project import atomic_write_json, log_summary, should_skip

    target = "bert" if cfg.tune_bert else "tfidf_logreg"
    out_json = paths.experiments / "optuna_results.json"
    out_png = paths.experiments / "optuna_history.png"
    if should_skip(cfg.force, "Step 7", out_json, out_png):
        prev = json.loads(out_json.read_text(encoding="utf-8"))
        if prev.get("target") == target:
            return {**prev, "skipped": True}
        print(f"[Step 7] saved results are for {prev.get('target')}, not {target}: tuning again.")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.time()
    study, meta = tune_bert(cfg, paths) if cfg.tune_bert else tune_baseline(cfg, paths)
    trials = _trials_table(study)
    done = [t for t in trials if t["value"] is not None]
    if not done:
        raise RuntimeError("no Optuna trial finished; see the trial states in the log")
    best = max(done, key=lambda t: t["value"])
    doc = {"target": target, "n_trials": len(trials), "best_value": best["value"], "best_params": best["params"],
           "best_trial": best["number"], "metric": "validation macro_f1", "seconds": round(time.time() - t0, 1),
           "trials": trials, **meta}
    atomic_write_json(out_json, doc)
    plot_history(trials, out_png, f"Optuna {target}: {len(trials)} trials")
    log_summary(paths, "Step 7 — Hyperparameter optimisation",
                f"Optuna on {target}: best validation macro-F1 {best['value']:.4f} with {best['params']} "
                f"({len(trials)} trials). {out_json}")
    return {**doc, "plot": str(out_png), "skipped": False}
