# %% [markdown]
# ## Step 7 — Hyperparameter optimization
# Goal: search hyperparameters with Optuna, at most `cfg.n_trials` trials (12 by default).
#
# - `cfg.tune_bert = False` (default): the TF-IDF + logistic regression baseline (C, n-gram range,
#   min_df) on a `cfg.tune_sample` subsample; seconds per trial.
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
