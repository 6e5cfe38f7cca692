# %% [markdown]
# ## Step 4 — Feature representation
# TF-IDF (word 1–2-grams, plus character 2–5-grams when the training set is small enough to afford them)
# fitted on the training split only, saved to `models/tfidf_vectorizer.joblib`; the transformed splits are
# saved for Step 5. Code: `src/feature_engineering.py`.

# %%
import feature_engineering

step4 = feature_engineering.run(cfg, paths)
print(step4)

# %% [markdown]
# ### BERT [CLS] embeddings
# Batch-encodes the texts with `bert-base-uncased` (size-checked first; falls back to `distilbert-base-uncased`
# when too slow or failing) and saves the [CLS] vectors to `data/processed/embeddings/` as `.npy`.

# %%
import embeddings

emb = embeddings.run(cfg, paths)
print(emb)
