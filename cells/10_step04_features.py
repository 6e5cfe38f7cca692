# %% [markdown]
# ## Step 4 — Feature representation
# TF-IDF fitted on the training split only: word 1–2-grams of the cleaned text (numbers removed, model numbers
# such as `gvs148dc3b` or `8kg` kept), plus character 2–5-grams of the lightly cleaned text (lowercased, HTML
# stripped, numbers and stop words kept) when the training set is small enough to afford them. The vectorizer
# takes the raw title + description and does its own cleaning, so Step 5's pipelines and the API clean exactly
# as here. Saved to `models/tfidf_vectorizer.joblib`; the transformed splits are saved for Step 5.
# Code: `src/feature_engineering.py`.

# %%
import feature_engineering

step4 = feature_engineering.run(cfg, paths)
print(step4)

# %% [markdown]
# ### BERT [CLS] embeddings
# Batch-encodes the texts with `bert-base-uncased` (size-checked first; falls back to `distilbert-base-uncased`
# when too slow or failing) and saves the [CLS] vectors to `data/processed/embeddings/` as `.npy`. Step 5c trains a
# logistic regression on them, which Step 8 evaluates beside the other models.

# %%
import embeddings

emb = embeddings.run(cfg, paths)
print(emb)
