"""Step 7: Optuna hyperparameter search for the TF-IDF baseline or for BERT, and its result applied.

`cfg.tune_bert` switches the target:
- False (default): the TF-IDF Pipeline Step 5 trains (feature_engineering.build_vectorizer +
  the Step 5 model cfg.tune_model names; "best" = Step 5's best by validation), searching the
  classifier's C (alpha for NB), the word n-gram range, min_df and the char n-grams; each trial
  is scored by cfg.gridsearch_cv-fold cross-validation on a stratified cfg.tune_sample-row sample
  of the training split (the vectorizer is refitted in every fold).
- True: BERT short runs through `Trainer.hyperparameter_search` (Optuna backend, a fresh
  model per trial via model_init) over learning rate, batch size, epochs and weight
  decay, on cfg.tune_bert_train_rows training rows; scored by validation macro-F1.
Results: experiments/optuna_results.json (every trial) and experiments/optuna_history.png.
`apply_best` puts the best values into a saved model before Step 8 evaluates: the tuned TF-IDF
Pipeline is refitted on the training split, saved as models/tuned_<model>.joblib with its row in
results/metrics_baselines.csv, and replaces models/baseline.joblib when its validation score is
higher; for BERT, Step 6 is re-run with the best values (models/bert_final/).

    import tuning
    res = tuning.run(cfg, paths)
    applied = tuning.apply_best(cfg, paths, res)
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any

# the Config fields a TF-IDF trial may set (the classifier's own parameter is "C" or "alpha")
TFIDF_FIELDS = ("tfidf_ngram_max", "tfidf_min_df", "tfidf_char_ngrams", "tfidf_char_ngram_max")
TUNABLE_MODELS = ("logreg", "linear_svc", "naive_bayes")


def _trials_table(study) -> list[dict[str, Any]]:
    return [{"number": t.number, "value": t.value, "params": t.params, "state": t.state.name,
             "seconds": (t.datetime_complete - t.datetime_start).total_seconds()
             if t.datetime_complete and t.datetime_start else None} for t in study.trials]


def plot_history(trials: list[dict[str, Any]], path, title: str, metric: str = "validation macro-F1") -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from atomic import atomic_savefig

    done = [t for t in trials if t["value"] is not None]
    xs = [t["number"] for t in done]
    ys = [t["value"] for t in done]
    best, best_so_far = float("-inf"), []
    for y in ys:
        best = max(best, y)
        best_so_far.append(best)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(xs, ys, label="trial score", zorder=3)
    ax.step(xs, best_so_far, where="post", color="tab:red", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=10)
    ax.legend()
    ax.grid(alpha=0.3)
    atomic_savefig(fig, path)
    plt.close(fig)


def tune_target(cfg, paths) -> str:
    """The Step 5 model the TF-IDF search tunes: cfg.tune_model, or for "best" Step 5's best grid
    model by validation cfg.selection_metric (linear_svc when Step 5's table is not there)."""
    import pandas as pd

    if cfg.tune_model != "best":
        return cfg.tune_model
    table_path = paths.results / "metrics_baselines.csv"
    col = f"val_{cfg.selection_metric}"
    if table_path.is_file():
        table = pd.read_csv(table_path)
        if col in table.columns:
            rows = table[table["model"].isin(TUNABLE_MODELS)].dropna(subset=[col])
            if len(rows):
                return str(rows.sort_values(col, ascending=False).iloc[0]["model"])
    return "linear_svc"


def trial_config(cfg, params: dict[str, Any]):
    """cfg with a trial's TF-IDF fields set; the classifier's parameter is returned apart."""
    fields = {k: v for k, v in params.items() if k in TFIDF_FIELDS}
    return dataclasses.replace(cfg, **fields), {k: v for k, v in params.items() if k not in TFIDF_FIELDS}


def tfidf_space(trial, model: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if model == "naive_bayes":
        params["alpha"] = trial.suggest_float("alpha", 1e-3, 1.0, log=True)
    else:
        params["C"] = trial.suggest_float("C", 0.05, 20.0, log=True)
    params["tfidf_ngram_max"] = trial.suggest_int("tfidf_ngram_max", 1, 2)
    params["tfidf_min_df"] = trial.suggest_int("tfidf_min_df", 1, 3)
    params["tfidf_char_ngrams"] = trial.suggest_categorical("tfidf_char_ngrams", [True, False])
    if params["tfidf_char_ngrams"]:
        params["tfidf_char_ngram_max"] = trial.suggest_int("tfidf_char_ngram_max", 4, 6)
    return params


def tfidf_pipeline(cfg, model: str, params: dict[str, Any], n_train: int):
    """The Step 5 text Pipeline with a trial's values (an uncalibrated LinearSVC: same decisions, 1/4 the fits)."""
    from sklearn.pipeline import Pipeline

    import baselines
    import feature_engineering as fe

    tcfg, clf_params = trial_config(cfg, params)
    if tcfg.tfidf_char_ngrams:  # the trial asked for char n-grams: the row cap does not switch them off
        tcfg = dataclasses.replace(tcfg, tfidf_char_max_rows=max(tcfg.tfidf_char_max_rows, n_train))
    return Pipeline([("features", fe.build_vectorizer(tcfg, n_train)),
                     ("clf", baselines.estimator(model, cfg, **clf_params))]), tcfg


def tune_baseline(cfg, paths) -> tuple[Any, dict[str, Any]]:
    import warnings

    import numpy as np
    import optuna
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from tqdm.auto import tqdm

    import baselines
    from sampling import stratified_cap
    from splits import load_split

    model = tune_target(cfg, paths)
    cols = ["product_title", "product_description", "category", "label"]
    train = stratified_cap(load_split(paths, "train", usecols=cols), int(cfg.tune_sample), cfg.seed)
    x, y = baselines.texts_of(train), train["category"].astype(str).to_numpy(dtype=object)
    folds = StratifiedKFold(int(cfg.gridsearch_cv), shuffle=True, random_state=cfg.seed)
    scoring = baselines.SKLEARN_SCORING[cfg.selection_metric]

    def objective(trial):
        pipe, _ = tfidf_pipeline(cfg, model, tfidf_space(trial, model), len(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # saga's iteration cap; classes with fewer rows than folds
            try:
                return float(np.mean(cross_val_score(pipe, x, y, cv=folds, scoring=scoring, n_jobs=1)))
            except ValueError as exc:  # min_df can prune every term of a tiny fold
                raise optuna.TrialPruned(str(exc)) from exc

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=int(cfg.seed)),
                                study_name=f"tfidf_{model}")
    import budget

    st = budget.current(cfg, paths).begin("tuning")  # trials stop once the mean trial no longer fits
    with tqdm(total=int(cfg.n_trials), desc=f"Optuna (TF-IDF {model})") as bar:
        study.optimize(objective, n_trials=int(cfg.n_trials),
                       callbacks=[lambda s, t: bar.update(1), st.optuna_stopper(int(cfg.n_trials))])
    return study, {"n_train": len(train), "model": model, "folds": int(cfg.gridsearch_cv),
                   "metric": f"{cfg.gridsearch_cv}-fold CV {cfg.selection_metric} on the training split"}


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
    import budget

    st = budget.current(cfg, paths).begin("tuning")

    def hp_space(trial):
        # hyperparameter_search takes no Optuna callbacks: the budget is asked as each trial starts
        if not st.trial_guard(trial.study, int(cfg.n_trials)):
            raise optuna.TrialPruned("Step 7's time budget is used up")
        return bert_hp_space(trial)

    storage = optuna.storages.InMemoryStorage()
    trainer.hyperparameter_search(
        hp_space=hp_space, compute_objective=lambda m: m["eval_macro_f1"], n_trials=int(cfg.n_trials),
        direction="maximize", backend="optuna", storage=storage, study_name="bert",
        sampler=optuna.samplers.TPESampler(seed=int(cfg.seed)))
    study = optuna.load_study(study_name="bert", storage=storage)
    return study, {"n_train": len(train), "n_val": len(val), "model": name}


def run(cfg, paths) -> dict[str, Any]:
    """Run the Optuna study chosen by cfg.tune_bert; save every trial as JSON and a history plot."""
    import json

    from atomic import atomic_write_json
    from project import should_skip
    from runlog import log_summary

    target = "bert" if cfg.tune_bert else "tfidf"
    out_json = paths.experiments / "optuna_results.json"
    out_png = paths.experiments / "optuna_history.png"
    if should_skip(cfg.force, "Step 7", out_json, out_png):
        prev = json.loads(out_json.read_text(encoding="utf-8"))
        if prev.get("target") == target:
            return {**prev, "skipped": True}
        print(f"[Step 7] saved results are for {prev.get('target')}, not {target}: tuning again.")
    import optuna

    import budget

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.time()
    with budget.current(cfg, paths).step("tuning"):  # Step 7's share of the time budget (budget.py)
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
    what = f"{target} ({meta['model']})" if target == "tfidf" else target
    plot_history(trials, out_png, f"Optuna {what}: {len(trials)} trials", doc["metric"])
    log_summary(paths, "Step 7 — Hyperparameter optimisation",
                f"Optuna on {what}: best {doc['metric']} {best['value']:.4f} with {best['params']} "
                f"({len(trials)} trials). {out_json}")
    return {**doc, "plot": str(out_png), "skipped": False}


# --- the best values, applied ---------------------------------------------------------------

def apply_best(cfg, paths, result: dict[str, Any]) -> dict[str, Any]:
    """Put Step 7's best values into the saved model Step 8 evaluates (see the module docstring)."""
    if result.get("target") == "bert":
        return apply_bert(cfg, paths, result)
    return apply_tfidf(cfg, paths, result)


def apply_tfidf(cfg, paths, result: dict[str, Any]) -> dict[str, Any]:
    """Refit the tuned TF-IDF Pipeline on the training split; save it, add its row to
    metrics_baselines.csv and make it models/baseline.joblib when it validates better."""
    import json
    import shutil

    import pandas as pd

    import baselines
    from atomic import atomic_path, atomic_to_csv, atomic_write_json
    from project import should_skip
    from runlog import log_summary
    from sampling import stratified_cap
    from splits import load_split

    model = result["model"]
    name = f"tuned_{model}"
    out = paths.models / f"{name}.joblib"
    stamp = paths.models / f"{name}.json"
    params = dict(result["best_params"])
    if should_skip(cfg.force, "Step 7 (apply)", out, stamp) and \
            json.loads(stamp.read_text(encoding="utf-8")).get("params") == params:
        return {**json.loads(stamp.read_text(encoding="utf-8")), "skipped": True}
    t0 = time.perf_counter()
    cols = ["product_title", "product_description", "category", "label"]
    train, val, test = (load_split(paths, s, usecols=cols) for s in ("train", "val", "test"))
    fit_rows = stratified_cap(train, cfg.baseline_max_train_rows, cfg.seed)
    pipe, tcfg = tfidf_pipeline(cfg, model, params, len(fit_rows))
    x, y = baselines.texts_of(fit_rows), fit_rows["category"].astype(str).to_numpy(dtype=object)
    features = pipe.named_steps["features"].fit(x[baselines.sample_rows(y, cfg.tfidf_fit_max_rows, cfg.seed)])
    X = features.transform(x)
    clf_params = trial_config(cfg, params)[1]
    if model == "linear_svc":
        clf, how = baselines.calibrated_svc(X, y, cfg, C=clf_params["C"])
    else:
        clf, how = baselines.estimator(model, cfg, **clf_params).fit(X, y), "fitted"
    tuned = baselines.make_pipeline(features, clf)
    metric = cfg.selection_metric

    def score(df):
        return baselines.score_model(clf, features.transform(baselines.texts_of(df)),
                                     df["category"].astype(str).to_numpy(dtype=object))

    vm, tm = score(val), score(test)
    with atomic_path(out) as tmp:
        import joblib

        joblib.dump(tuned, tmp)
    table_path = paths.results / "metrics_baselines.csv"
    table = pd.read_csv(table_path) if table_path.is_file() else pd.DataFrame({"model": []})
    col = f"val_{metric}"
    step5 = table[table["model"].isin(baselines.SKLEARN_MODELS)]
    best_before = float(step5[col].max()) if col in step5 and step5[col].notna().any() else float("-inf")
    note = (f"Step 7's best of {result['n_trials']} Optuna trials ({result['metric']} {result['best_value']:.4f}): "
            f"{params}; {how}, refit on {len(fit_rows):,} rows")
    row = {"model": name, **tm, "val_accuracy": vm["accuracy"], "val_macro_f1": vm["macro_f1"],
           "cv_mean": result["best_value"], "selected": ", ".join(f"{k}={v}" for k, v in params.items()),
           "train_seconds": round(time.perf_counter() - t0, 2), "train_rows": len(fit_rows), "n_test": len(test),
           "notes": note}
    others = table[table["model"] != name]
    table = pd.concat([others, pd.DataFrame([row])], ignore_index=True) if len(others) else pd.DataFrame([row])
    atomic_to_csv(table.reindex(columns=baselines.METRIC_COLUMNS), table_path)
    promoted = vm[metric] > best_before
    if promoted:
        with atomic_path(paths.models / "baseline.joblib") as tmp:
            shutil.copyfile(out, tmp)
    doc = {"model": name, "params": params, "val": vm, "test_accuracy": tm["accuracy"], "promoted": promoted,
           "baseline_val_before": best_before, "file": str(out)}
    atomic_write_json(stamp, doc)
    log_summary(paths, "Step 7 — best values applied",
                f"{name}: validation {metric} {vm[metric]:.4f} (Step 5's best: {best_before:.4f}), test accuracy "
                f"{tm['accuracy']:.4f} -> models/{out.name}"
                + ("; it is now models/baseline.joblib." if promoted else "; models/baseline.joblib is kept."))
    return {**doc, "skipped": False}


def apply_bert(cfg, paths, result: dict[str, Any]) -> dict[str, Any]:
    """Re-run Step 6 with the best learning rate, batch size, epochs and weight decay."""
    import json

    import finetune

    best = result["best_params"]
    info_path = paths.bert_final / finetune.FINAL_MARKER
    if info_path.is_file() and not cfg.force:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        if info.get("tuned_params") == best:
            return {"model": "bert", "params": best, "skipped": True}
    tuned = dataclasses.replace(cfg, force=True, learning_rate=float(best["learning_rate"]),
                                per_device_train_batch_size=int(best["per_device_train_batch_size"]),
                                num_train_epochs=float(best["num_train_epochs"]),
                                weight_decay=float(best["weight_decay"]))
    res = finetune.run(tuned, paths)
    if info_path.is_file():  # mark the final model as the tuned one (the next run then skips)
        info = json.loads(info_path.read_text(encoding="utf-8"))
        info["tuned_params"] = best
        from atomic import atomic_write_text

        atomic_write_text(info_path, json.dumps(info, indent=2, default=str) + "\n")
    return {"model": "bert", "params": best, "val_accuracy": res.get("val_accuracy"),
            "val_macro_f1": res.get("val_macro_f1"), "skipped": False}
