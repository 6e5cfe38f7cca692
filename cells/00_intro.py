# %% [markdown] tags=["quickstart"]
# # Product categorization: Amazon product title (+ description) → category
#
# This notebook builds the whole assignment step by step (Steps 1–12) and saves every artifact
# (data splits, models, metrics, plots, logs, report) to your Google Drive under
# `MyDrive/product_categorization_project/`, so nothing is lost when the Colab session ends.
#
# **Before you start**
# 1. **Use a GPU runtime:** *Runtime → Change runtime type → Hardware accelerator: GPU (T4)* → *Save*.
#    (TPU also works for the classic models, but BERT fine-tuning is written for a GPU; on CPU it falls back to tiny sizes.)
# 2. **Data:** the user's dataset is Kaggle's *Amazon Products Dataset 2023 (1.4M products)* by asaniczka
#    (`amazon_products.csv` + `amazon_categories.csv`). Either upload the CSVs/zips (Option A) or let the
#    notebook download them from Kaggle (Option B).
# 3. **Kaggle sign-in (optional, only for Option B):** the dataset is public, so the download usually works
#    without credentials. If Kaggle refuses, sign in to kaggle.com → *Settings → API → Create New Token*, then
#    either add the token as a Colab secret named `KAGGLE_API_TOKEN` (key icon 🔑 in the left bar, enable
#    *Notebook access*), or upload the downloaded `kaggle.json` when the Option B cell asks for it.
#
# **Quick Start:** run the cells down to and including *Quick Start* (or use *Runtime → Run all* for
# everything). The Quick Start mounts Drive, installs only missing packages, loads your data (or a small,
# clearly labelled built-in demo catalogue when none is present), trains TF-IDF + Logistic Regression on a
# stratified ≤ 10k-row sample, and prints accuracy and macro-F1 in well under a minute.
#
# Settings live in the **parameters** cell below (`RUN_MODE`, `DATA_PATH`, `SAMPLE_SIZE`, `FORCE`, ...).
# Every step skips itself when its complete artifacts already exist on Drive; set `FORCE = True` to redo.
