"""One typed configuration for the whole pipeline: seeds, paths, sizes, hyperparameters.

Every stage reads its knobs from `Config`; `save_yaml` writes the values actually
used to PROJECT_ROOT/config_colab.yaml and `load_yaml` reads them back with their
real types (PyYAML alone would read `2e-5` as a string).

    from config import Config
    cfg = Config.for_mode("smoke", project_root="/tmp/demo")
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from typing import Any, Optional

RUN_MODES = ("quickstart", "smoke", "full")
# Minutes a run may take when TIME_BUDGET_MINUTES is 0 or empty. Full: a Colab T4 runs every
# step of the 1.4M-row dataset at the seed's sizes (bert-base, 3 epochs x 200k rows) in ~1.5 h;
# the rest is headroom. Smoke: CI's tiny sizes need a few minutes, nothing is cut.
DEFAULT_TIME_BUDGET_MINUTES = {"quickstart": 10.0, "smoke": 20.0, "full": 180.0}


def resolve_time_budget(value: Any, run_mode: str) -> float:
    """Minutes for the run: `value` when positive, else the mode's default (0, "", None = default)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        value = 0
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"TIME_BUDGET_MINUTES must be a number of minutes (0 = the {run_mode} default), "
                         f"got {value!r}") from None
    return minutes if minutes > 0 else DEFAULT_TIME_BUDGET_MINUTES.get(run_mode, DEFAULT_TIME_BUDGET_MINUTES["full"])


@dataclass
class Config:
    # --- run and paths ----------------------------------------------------------------
    project_root: str = ""
    run_mode: str = "full"  # quickstart | smoke | full
    seed: int = 42
    force: bool = False  # re-run steps whose complete artifacts already exist

    # --- data and splits (Dataset acquisition, Steps 2-3: src/data.py, src/splits.py) ---
    # a CSV, zip, folder, SOURCE!MEMBER, http(s) URL or Kaggle handle owner/name (src/data.py);
    # empty = data/raw, then parent_project_root's data/raw, then the demo catalogue
    data_path: str = ""
    parent_project_root: str = ""  # a PR preview's parent project: its data/raw is read, never written
    download_dir: str = ""  # URL / Kaggle downloads; empty = PROJECT_ROOT/data/raw/downloads (cache it in CI)
    max_rows: Optional[int] = None  # cap rows read (None = all 1.4M)
    quickstart_sample: int = 10_000
    demo_rows: int = 3000  # size of the built-in demo catalogue
    test_size: float = 0.10
    val_size: float = 0.10
    # 248 Amazon categories include some with a handful of rows: stratification needs
    # enough rows per class, so classes below this are handled by rare_class_strategy.
    min_rows_per_class: int = 10
    rare_class_strategy: str = "drop"  # drop | other (merge into "Other")

    # --- cleaning (Step 3: src/preprocess.py) -------------------------------------------
    remove_numbers: bool = True
    apply_lemmatization: bool = False
    remove_stopwords: bool = True
    lowercase: bool = True
    strip_html: bool = True

    # --- TF-IDF features (Step 4: src/feature_engineering.py) ----------------------------
    tfidf_max_features: int = 200_000
    tfidf_ngram_max: int = 2
    tfidf_min_df: int = 2
    tfidf_sublinear_tf: bool = True
    # char_wb 2-5-grams cost ~300 non-zeros per title (15x the word features; every linear fit
    # slows by as much), so above tfidf_char_max_rows training rows, where more rows matter
    # more than char features, they are left out. What each adds: the README benchmark.
    tfidf_char_ngrams: bool = True
    tfidf_char_ngram_min: int = 2
    tfidf_char_ngram_max: int = 5
    tfidf_char_max_features: int = 300_000
    tfidf_char_max_rows: int = 50_000
    tfidf_char_text: str = "light"  # light (lowercased, numbers and stop words kept) | cleaned (Step 3's text)
    # All bigrams of 1.1M titles make a ~2 GB Python dict: learn vocabulary/idf on a
    # stratified subsample of this size, then transform every row.
    tfidf_fit_max_rows: int = 500_000

    # --- model selection (Steps 5-8) ------------------------------------------------------
    # every model choice (C, alpha, best model, ensemble weights, epochs) is scored by this
    # metric on held-out training folds or the validation split: accuracy | macro_f1
    selection_metric: str = "accuracy"

    # --- TF-IDF baselines (Step 5: src/baselines.py) -----------------------------------------
    # GridSearchCV (gridsearch_cv folds over the whole text pipeline) and RandomForest cannot
    # take 1.4M rows in 12 GB / an hour: they run on stratified subsamples of these sizes.
    # Multinomial LogReg costs rows x non-zeros x classes (248): its C is chosen on a 20k sample.
    gridsearch_sample: int = 20_000
    gridsearch_cv: int = 3
    gridsearch_C: tuple = (1.0, 4.0, 16.0)  # LogisticRegression
    svc_grid_C: tuple = (0.25, 0.5, 1.0)  # LinearSVC
    nb_grid_alpha: tuple = (0.01, 0.05, 0.2)  # MultinomialNB
    # saga LogReg / LinearSVC over 248 classes scale ~linearly in rows: their final fit uses
    # at most this many stratified train rows (MultinomialNB always uses all of train).
    baseline_max_train_rows: int = 200_000
    logreg_max_iter: int = 15  # saga epochs; tol=1e-3 usually stops earlier
    svc_c: float = 0.5  # without a grid search (evaluate_on_split callers may skip it)
    # calibrating the SVC by cross-fitting costs 3 extra fits; above this many rows it is
    # calibrated on a held-out slice of svc_calibration_fraction instead (one fit)
    svc_holdout_calibration_rows: int = 50_000
    svc_calibration_fraction: float = 0.1
    nb_alpha: float = 0.05
    rf_sample: int = 100_000
    rf_n_estimators: int = 200
    rf_max_depth: Optional[int] = None
    rf_min_samples_leaf: int = 1
    # every tree node stores a value per class: 248 classes x an unbounded tree is ~100 MB
    # per tree, so trees are capped by leaf count (and the forest is saved compressed).
    rf_max_leaf_nodes: int = 1000
    rf_select_features: int = 20_000  # chi2-selected TF-IDF columns the forest sees (speed)
    rf_max_samples: int = 20_000  # bootstrap rows per tree: the forest still sees all of rf_sample

    # --- Keras BiLSTM (Step 5: src/lstm.py) ------------------------------------------------
    lstm_sample: int = 300_000  # with a GPU
    lstm_cpu_sample: int = 60_000  # without one (one Python step per token on CPU)
    lstm_val_rows: int = 50_000
    lstm_vocab: int = 50_000
    lstm_max_len: int = 40
    lstm_embed_dim: int = 128
    lstm_units: int = 64
    lstm_dropout: float = 0.3
    # Adam's step for the BiLSTM on top of the bag, by 3-fold CV of the whole procedure (bag, LSTM
    # with its validation slice, refit) on the train splits of asaniczka_per_category20 and
    # walmart_amazon: 3e-3 0.589 / 0.722, 1e-2 0.585 / 0.724, 1e-3 - / 0.720; the bag alone 0.589 / 0.722
    lstm_learning_rate: float = 3e-3
    # the bag under the LSTM (lstm.fit_bag): LogisticRegression on the word TF-IDF of text_clean, at
    # the C Step 5's GridSearchCV picks on every bench dataset; out-of-fold logits from this many
    # folds, so the bag is fitted folds + 1 times on at most lstm_bag_rows rows. Word unigrams: 3-fold
    # CV on asaniczka_per_category20's train split, 0.590 against 0.591 with bigrams and 0.598 with
    # char 2-5-grams too, at a quarter and a tenth of their fitting time (248 classes)
    lstm_bag_C: float = 16.0
    lstm_bag_ngram_max: int = 1
    lstm_bag_char_ngrams: bool = False
    lstm_bag_rows: int = 20_000
    lstm_bag_max_iter: int = 300
    lstm_bag_folds: int = 3
    # chosen on the validation slices (per_category20, walmart_amazon, random10k; mean val accuracy)
    # when the bag was still trained inside Keras, not re-checked since: smoothing 0.1 / dropout 0.3
    # 0.636, smoothing 0 0.639, dropout 0.5 0.631 (smoothing 0's +0.2 is well inside a ~400-row
    # slice's noise, ~2 points, so kept)
    lstm_label_smoothing: float = 0.1
    lstm_epochs: int = 30  # an upper bound: early stopping on validation accuracy ends the run
    lstm_patience: int = 8
    lstm_batch_size: int = 64

    # --- hybrid model (Step 5b: src/hybrid.py) ------------------------------------------------
    # TF-IDF + frozen sentence-encoder embeddings -> LinearSVC. Embedding rows is the cost
    # (T4: ~2k titles/s; 2 CPU cores: ~40/s for MiniLM, ~15/s for MPNet), hence separate GPU
    # and CPU row caps and encoder lists. MPNet costs ~5x MiniLM, hence MiniLM only without a
    # GPU. What each encoder adds: the README benchmark.
    hybrid: bool = True
    hybrid_encoders: tuple[str, ...] = ("sentence-transformers/all-MiniLM-L6-v2",
                                        "sentence-transformers/all-mpnet-base-v2")
    hybrid_cpu_encoders: tuple[str, ...] = ("sentence-transformers/all-MiniLM-L6-v2",)
    hybrid_max_length: int = 64
    hybrid_batch_size: int = 64
    hybrid_embed_weight: float = 1.0  # scale of the unit-length embedding beside the TF-IDF block
    hybrid_svc_c: float = 1.0
    # With a GPU; val/test are scored in full. The SVC (single-threaded liblinear) is then the
    # cost: 50k rows x (TF-IDF + 1,152 dense columns) took 7 min and 3.8 GB on 2 cores.
    hybrid_max_train_rows: int = 50_000
    # the second model on the hybrid's embeddings (src/neighbours.py): k nearest training titles
    # + a category-name prior whose share is chosen by leave-one-out on the training rows
    neighbours: bool = True
    neighbours_k: tuple[int, ...] = (5, 10, 20, 40)
    neighbours_temperature: tuple[float, ...] = (0.05, 0.1)
    neighbours_name_weights: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75)
    hybrid_cpu_max_rows: int = 10_000  # without one: train rows ...
    hybrid_cpu_eval_rows: int = 5_000  # ... and the val/test rows it is scored on

    # --- transformer (Steps 5c and 6: src/embeddings.py, src/finetune.py) -------------------
    model_name: str = "bert-base-uncased"
    fallback_model_name: str = "distilbert-base-uncased"
    # bert-base fine-tunes at ~1-3 rows/s on 2 CPU cores: when neither model_name nor
    # fallback_model_name can see every fine-tuning row once in its share of the budget, this
    # model (MiniLM-L6: 6 layers x 384, 22M parameters, ~30 rows/s on 2 cores) takes their place.
    cpu_model_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    max_length: int = 128

    # --- [CLS] embeddings + LogisticRegression (Step 5c: src/embeddings.py) -----------------
    embed_max_rows: int = 50_000  # 1.4M x 768 float32 = 4.3 GB: cap it
    embed_batch_size: int = 64
    embed_probe_batches: int = 3  # batches timed before extracting all embeddings
    embed_lr_C: tuple = (0.01, 0.1, 1.0)  # LogisticRegression on the [CLS] vectors, C by CV
    embed_lr_max_iter: int = 300

    # --- fine-tuning (Step 6: src/finetune.py) ------------------------------------------------
    finetune_train_rows: int = 200_000  # subsample of train for fine-tuning
    finetune_eval_rows: int = 20_000
    num_train_epochs: float = 3.0  # raise for better accuracy if you have the time
    per_device_train_batch_size: int = 16  # raise to 32/64 on GPUs with more memory
    per_device_eval_batch_size: int = 64
    learning_rate: float = 3e-5
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    early_stopping_patience: int = 2
    # the new classification head learns this many times faster than the pretrained body;
    # soft targets; class-balanced sampling none | sqrt
    finetune_head_lr_multiplier: float = 20.0
    label_smoothing: float = 0.1
    finetune_class_balance: str = "none"
    # LP-FT: the head starts as a logistic regression on the frozen body's features, fitted on at
    # most finetune_probe_rows rows and finetune_probe_share of Step 6's time (no probe below
    # finetune_probe_min_rows)
    finetune_linear_probe: bool = True
    finetune_probe_rows: int = 20_000
    finetune_probe_share: float = 0.1
    finetune_probe_min_rows: int = 500
    finetune_probe_C: float = 1.0
    # what the new head reads: "cls" = the architecture's own head (BERT's [CLS] pooler); "mean" = the
    # masked token mean, as sentence-transformers checkpoints pool (mean_pooling; BERT architectures)
    finetune_pooling: str = "cls"
    eval_steps: int = 0  # 0 = evaluate once per epoch
    precheck_steps: int = 5  # real training steps timed before Step 6 is sized to the time budget

    # --- hyperparameter tuning (Step 7: src/tuning.py) --------------------------------------
    tune_bert: bool = False  # False: tune the TF-IDF baseline; True: tune BERT
    # the TF-IDF model tuned: best (Step 5's, by validation) | logreg | linear_svc | naive_bayes
    tune_model: str = "best"
    n_trials: int = 12
    tune_sample: int = 50_000
    tune_bert_train_rows: int = 5_000  # BERT Optuna trials are short runs on this many train rows

    # --- evaluation and ensemble (Step 8: src/evaluate.py, src/ensemble.py) ------------------
    n_confused_classes: int = 30
    n_roc_classes: int = 10
    ensemble_val_rows: int = 20_000  # validation rows (stratified) every model is scored on to weight the ensemble

    # --- interpretability (Step 9: src/interpret.py) -----------------------------------------
    n_hard_examples: int = 20
    n_example_predictions: int = 10  # rows in each of the correct/incorrect prediction CSVs
    lime_num_samples: int = 500  # perturbed texts per LIME explanation (seconds each on TF-IDF)
    shap_background_rows: int = 200  # training rows SHAP's linear explainer averages over

    # --- time budget (src/budget.py) -----------------------------------------------------
    # The wall time the whole run may take: notebook parameter TIME_BUDGET_MINUTES (the Go
    # tool's --time-budget-minutes / the action's time-budget-minutes); 0 or empty = the mode's
    # default (DEFAULT_TIME_BUDGET_MINUTES). Measured rates size every step that can be sized
    # (embedding rows, fine-tuning rows x epochs, LSTM rows, Optuna trials, explained examples)
    # to fit it; NOTES.md and summary.txt say what was cut and why.
    time_budget_minutes: float = 0.0
    budget_margin_fraction: float = 0.05  # held back for what the estimates miss (at least 1 min)
    finetune_min_rows: int = 1_000  # the budget never cuts below these (a step does at least this much)
    finetune_min_eval_rows: int = 200
    embed_min_rows: int = 1_000
    lstm_min_rows: int = 2_000

    def __post_init__(self) -> None:
        if self.run_mode not in RUN_MODES:
            raise ValueError(f"run_mode must be one of {RUN_MODES}, got {self.run_mode!r}")
        resolve_time_budget(self.time_budget_minutes, self.run_mode)  # a bad value fails here, in one line
        self.time_budget_minutes = float(self.time_budget_minutes or 0)  # 0 stays 0: "the mode's default"
        if self.rare_class_strategy not in ("drop", "other"):
            raise ValueError("rare_class_strategy must be 'drop' or 'other'")
        if self.finetune_class_balance not in ("none", "sqrt"):
            raise ValueError("finetune_class_balance must be 'none' or 'sqrt'")
        if self.finetune_pooling not in ("cls", "mean"):
            raise ValueError("finetune_pooling must be 'cls' or 'mean'")
        if not 0 < self.test_size < 1 or not 0 < self.val_size < 1:
            raise ValueError("test_size and val_size must be fractions between 0 and 1")
        if self.min_rows_per_class < 2:
            raise ValueError("min_rows_per_class must be at least 2 to stratify")
        if int(self.lstm_bag_folds) < 2:
            raise ValueError("lstm_bag_folds must be at least 2 (out-of-fold logits need another fold)")
        for name in ("gridsearch_C", "svc_grid_C", "nb_grid_alpha", "embed_lr_C", "neighbours_temperature",
                     "neighbours_name_weights"):  # YAML gives lists, env vars "a,b"
            value = getattr(self, name)
            setattr(self, name, tuple(float(v) for v in (value.split(",") if isinstance(value, str) else value)))
        k = self.neighbours_k
        self.neighbours_k = tuple(int(v) for v in (k.split(",") if isinstance(k, str) else k))
        if (not self.neighbours_k or min(self.neighbours_k) < 1 or not self.neighbours_temperature
                or min(self.neighbours_temperature) <= 0 or not self.neighbours_name_weights
                or not all(0 <= w <= 1 for w in self.neighbours_name_weights)):
            raise ValueError("neighbours_k needs candidates >= 1, neighbours_temperature candidates > 0 and "
                             "neighbours_name_weights shares between 0 and 1")
        if self.selection_metric not in ("accuracy", "macro_f1"):
            raise ValueError("selection_metric must be 'accuracy' or 'macro_f1'")
        if self.tfidf_char_text not in ("light", "cleaned"):
            raise ValueError("tfidf_char_text must be 'light' or 'cleaned'")
        for name in ("hybrid_encoders", "hybrid_cpu_encoders"):  # an env var gives "a,b"; YAML a list
            value = getattr(self, name)
            setattr(self, name, tuple(str(v).strip() for v in (value.split(",") if isinstance(value, str) else value)
                                      if str(v).strip()))
            if not getattr(self, name):
                raise ValueError(f"{name} needs at least one encoder (set hybrid=False to skip Step 5b)")

    @classmethod
    def for_mode(cls, run_mode: str, **overrides: Any) -> "Config":
        """Defaults for a run mode; `smoke` shrinks every size so CI runs all 12 steps."""
        base: dict[str, Any] = {"run_mode": run_mode}
        if run_mode == "smoke":
            base.update(
                max_rows=None, min_rows_per_class=4,  # data and splits
                tfidf_max_features=20_000,  # TF-IDF
                gridsearch_sample=2_000, gridsearch_C=(1.0, 10.0), rf_sample=2_000, rf_n_estimators=30,  # baselines
                lstm_sample=2_000, lstm_cpu_sample=2_000, lstm_vocab=5_000, lstm_epochs=2, lstm_bag_folds=2,
                lstm_batch_size=64,
                hybrid_encoders=("tiny-bert",), hybrid_cpu_encoders=("tiny-bert",), hybrid_cpu_max_rows=2_000,
                hybrid_cpu_eval_rows=1_000, hybrid_max_train_rows=2_000,
                model_name="tiny-bert", fallback_model_name="tiny-bert", cpu_model_name="tiny-bert",  # transformer
                max_length=48, embed_max_rows=400, embed_batch_size=32,
                finetune_train_rows=600, finetune_eval_rows=200, num_train_epochs=1.0,  # fine-tuning
                per_device_train_batch_size=16, learning_rate=1e-3, precheck_steps=4,
                # the tiny BERT at lr 1e-3 (head x20) on an LP-FT head collapses to one class at 1.0
                finetune_linear_probe=False,
                n_trials=2, tune_sample=1_000,  # tuning
                n_confused_classes=10, n_roc_classes=4,  # evaluation
            )
        base.update(overrides)
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key, value in out.items():  # YAML's safe_dump writes lists, not tuples
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    def save_yaml(self, path: str, extra: Optional[dict] = None) -> None:
        import yaml
        from atomic import atomic_write_text

        doc = {"config": self.to_dict()}
        if extra:
            doc.update(extra)
        atomic_write_text(path, yaml.safe_dump(doc, sort_keys=False))

    @classmethod
    def load_yaml(cls, path: str) -> "Config":
        import yaml

        with open(path, encoding="utf-8") as fh:
            raw = (yaml.safe_load(fh) or {}).get("config", {})
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Config":
        """Coerce each value to its field's type (YAML and env vars give strings)."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        kwargs = {k: _coerce(known[k].type, v) for k, v in raw.items()}
        return cls(**kwargs)


def _coerce(type_name: Any, value: Any) -> Any:
    t = str(type_name)
    if value is None:
        return None
    if t == "bool":
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if t in ("int", "Optional[int]"):
        if isinstance(value, str) and value.strip().lower() in ("", "none", "null"):
            return None
        return int(float(value))
    if t == "float":
        return float(value)
    if t == "tuple":  # a string ("1,4,16" from an env var) is split in __post_init__
        return value if isinstance(value, str) else tuple(float(v) for v in value)
    return value


def env_overrides(prefix: str = "PC_") -> dict[str, Any]:
    """Config values from environment variables such as PC_N_TRIALS=4 (strings, coerced later)."""
    names = {f.name for f in fields(Config)}
    out: dict[str, Any] = {}
    for key, value in os.environ.items():
        if key.startswith(prefix) and key[len(prefix):].lower() in names:
            out[key[len(prefix):].lower()] = value
    return out

