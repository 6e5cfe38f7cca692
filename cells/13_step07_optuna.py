# %% [markdown]
# ## Step 7 — Hyperparameter optimization
# Goal: search hyperparameters with Optuna, at most `cfg.n_trials` trials (12 by default), then put the best
# values into the saved model that Step 8 evaluates.
#
# - `cfg.tune_bert = False` (default): the TF-IDF Pipeline Step 5 trains (`cfg.tune_model`; "best" = Step 5's
#   best by validation): the classifier's C (alpha for NB), word n-gram range, min_df and char n-grams. Each trial
#   is scored by `cfg.gridsearch_cv`-fold cross-validation of the whole Pipeline on a `cfg.tune_sample`-row
#   sample of the training split (the vectorizer is refitted in every fold).
# - `cfg.tune_bert = True`: BERT short runs (learning rate, batch size, epochs, weight decay) through
#   `Trainer.hyperparameter_search` on `cfg.tune_bert_train_rows` rows; needs a GPU to be practical.
#
# Saved: `experiments/optuna_results.json` (every trial) and `experiments/optuna_history.png`.

# %%
import tuning
TUNING = tuning.run(cfg, paths)
print(f"best {TUNING['metric']}: {TUNING['best_value']:.4f} with {TUNING['best_params']}")

# %%
from IPython.display import Image, display
display(Image(filename=str(paths.experiments / "optuna_history.png")))

# %% [markdown]
# ### Re-fit with the best values
# TF-IDF: the tuned Pipeline is refitted on the training split and saved as `models/tuned_<model>.joblib` with
# its row in `results/metrics_baselines.csv` (so Step 8 evaluates it); it becomes `models/baseline.joblib` when its
# validation score beats Step 5's best. BERT: Step 6 runs again with the best values (`models/bert_final/`).

# %%
APPLIED = tuning.apply_best(cfg, paths, TUNING)
{k: v for k, v in APPLIED.items() if k not in ("val",)}
