# %% [markdown]
# ## Dataset acquisition
# Use **one** of the two options, or set `DATA_PATH` in the parameters cell instead: a CSV, a zip, a folder,
# `ZIP!MEMBER.csv` (one CSV of a zip that holds several), an `https://` URL (downloaded once into
# `data/raw/downloads/`) or a Kaggle handle `owner/name`. Both options skip when data is already present
# (`DATA_PATH`, or files in `data/raw/`), so re-running never re-downloads. Expected files: `amazon_products.csv`
# and `amazon_categories.csv` (plain or zipped, together or side by side), or any CSV with a title, an optional
# description and a category column.

# %% [markdown]
# ### Option A — upload a CSV or zip from your computer
# Opens Colab's upload widget. The file is saved as `data/raw/amazon_products.csv` (a categories file as
# `amazon_categories.csv`); zips are extracted. Cancel the widget to use Option B instead. Outside Colab this
# cell only explains what to do.

# %%
import acquire

acquire.option_a_upload(cfg, paths)

# %% [markdown]
# ### Option B — download from Kaggle
# Downloads `asaniczka/amazon-products-dataset-2023-1-4m-products` with `kagglehub` (public: usually no
# credentials needed). If Kaggle refuses, the cell uses the Colab secret `KAGGLE_API_TOKEN` or asks for
# `kaggle.json`; if nothing works it **stops** with a message telling you to upload the CSV with Option A.

# %%
acquire.option_b_kaggle(cfg, paths)

# %% [markdown]
# ### Verify columns and copy the assignment document
# Reads the data, maps its columns to `product_title`, `product_description`, `category` (joining
# `category_id` to `amazon_categories.csv` for the Kaggle files) and reports what was found and dropped
# (duplicates: the same title and category twice). The data is parsed once: the result is cached in
# `data/processed/dataset.parquet` and every later step reads that cache.
# An assignment document in your Drive (`*assignment*.pdf/docx/md`) is copied to `data/raw/`.

# %%
import data

data_report = data.verify(cfg, paths)
print({k: v for k, v in data_report.items() if k != "head"})
display(data_report["head"])
acquire.copy_assignment_doc(paths)
