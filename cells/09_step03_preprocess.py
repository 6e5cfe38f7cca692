# %% [markdown]
# ## Step 3 — Data cleaning & preprocessing
# Cleaning lives in `src/preprocess.py` (written to Drive above): HTML stripping, lowercasing, number and
# punctuation removal, stop words, optional lemmatization; `TextCleaner` is the same cleaning as a scikit-learn
# transformer. Both tokenization routes are shown (nltk and a Hugging Face tokenizer, each with an offline
# fallback recorded in `NOTES.md`). Classes smaller than `min_rows_per_class` are dropped or merged
# (`rare_class_strategy`), then the data is split stratified 80/10/10 (`random_state=42`) into
# `data/processed/{train,val,test}.csv`, with label ids in `models/label_map.json`.

# %%
# Cleaning toggles (change and re-run with FORCE=True to rebuild the splits)
cfg.remove_numbers = True
cfg.apply_lemmatization = False
cfg.remove_stopwords = True
# Rare classes: fewer than cfg.min_rows_per_class rows -> dropped ("drop") or merged into "Other" ("other")
print(f"min_rows_per_class={cfg.min_rows_per_class}, rare_class_strategy={cfg.rare_class_strategy!r}")

# %%
import preprocess

step3 = preprocess.run(cfg, paths)
print({k: v for k, v in step3.items() if k not in ("tokenization", "examples")})
if "tokenization" in step3:
    display(step3["tokenization"])
    display(step3["examples"])
