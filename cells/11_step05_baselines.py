# %% [markdown]
# ## Step 5 — Baseline model training & evaluation
# On the TF-IDF features: Logistic Regression tuned with `GridSearchCV`, a calibrated linear SVM, MultinomialNB
# and a RandomForest; plus a Keras 3 bidirectional LSTM whose logits add to a TF-IDF bag-of-words's (a
# logistic regression, fitted first): the BiLSTM learns what the bag gets wrong on titles it has not seen,
# from the bag's out-of-fold logits (PyTorch backend, early stopping in which epoch 0, the bag alone, counts,
# class weights, label smoothing; `src/lstm.py`). Every choice is made on the training
# split only: LogReg's C, the SVM's C and NB's alpha by
# `cfg.gridsearch_cv`-fold cross-validation of the whole text Pipeline (the vectorizer is refitted in each fold),
# the LSTM's epoch by early stopping on the validation split, the best model by validation `cfg.selection_metric`.
# Methods that can't take all 1.4M rows use stratified subsamples whose sizes are in `config_colab.yaml`
# (recorded in `NOTES.md`). Each sklearn model is saved as one Pipeline (raw text → cleaning + TF-IDF →
# classifier) in `models/`; the best also as `models/baseline.joblib`; the LSTM as `models/lstm.h5` +
# `lstm_bag.joblib` (its bag) + `lstm_vocab.json`, its training curve as `results/plots/lstm_training_curve.png`.
# Metrics (with the CV figure of each chosen setting): `results/metrics_baselines.csv`.

# %%
import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported anywhere
import baselines

step5 = baselines.run(cfg, paths)
display(step5["metrics"])
print("best sklearn baseline:", step5.get("best", "(see metrics)"))

# %% [markdown]
# ### Step 5b — Hybrid model: TF-IDF + sentence embeddings → linear SVM
# TF-IDF sees exact words; frozen sentence encoders (mean pooling) also link titles that share no word
# ("trail runner" / "running shoe"), which helps the many small categories. One LinearSVC over all feature sets
# is the project's most accurate model on the asaniczka samples (see the README's benchmark). With a GPU it uses
# two encoders, `all-MiniLM-L6-v2` and `all-mpnet-base-v2` (`cfg.hybrid_encoders`), whose errors differ; without
# one only MiniLM (`cfg.hybrid_cpu_encoders`: MPNet is ~5x slower). Embedding is the cost:
# `hybrid_max_train_rows` train rows with a GPU, `hybrid_cpu_max_rows` without one.
# On the same embeddings a second model, the **embedding neighbours** (`src/neighbours.py`): a title's
# `cfg.neighbours_k` nearest training titles vote for their categories, and the category names, embedded by the
# same encoders, add a prior whose share is chosen by leave-one-out on the training rows. It follows variants and
# re-listings of one product and knows a category by its name; Step 8's ensemble weighs it with the others.
# Saved: `models/hybrid.joblib` (one Pipeline on raw text), `models/neighbours.joblib` and
# `models/hybrid_encoders/<name>/`; their rows are added to `results/metrics_baselines.csv`, so Step 8 evaluates
# them beside the others. Set `cfg.hybrid = False` to skip both, `cfg.neighbours = False` for the second only.

# %%
import hybrid

step5b = hybrid.run(cfg, paths)
display(step5b["metrics"])

# %%
from IPython.display import Image
curve = paths.plots / "lstm_training_curve.png"
if curve.is_file():
    display(Image(filename=str(curve)))

# %% [markdown]
# ### Step 5c — Logistic regression on the BERT [CLS] embeddings of Step 4
# The `.npy` vectors Step 4 saved feed a standardised logistic regression (C chosen by cross-validation on the
# training vectors), scored on the validation and test vectors Step 4 embedded. Saved:
# `models/embeddings_logreg.joblib` and its row in `results/metrics_baselines.csv`, so Step 8 evaluates it.

# %%
import embeddings

step5c = embeddings.train_classifier(cfg, paths)
display(step5c["metrics"])
