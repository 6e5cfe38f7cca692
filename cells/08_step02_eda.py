# %% [markdown]
# ## Step 2 — Data acquisition & quick EDA
# Loads the CSV into the contract frame (`product_title`, `product_description`, `category` + metadata),
# shows head, shape, dtypes, the number of categories and missing counts, and saves four PNGs to
# `results/plots/`: top-20 categories, title length (tokens and characters), description length and class
# imbalance (log scale when the classes differ by orders of magnitude).

# %%
import eda

step2 = eda.run(cfg, paths)
print("shape:", step2["shape"], "| unique categories:", step2["n_categories"])
display(step2["head"])
display(step2["dtypes"])
display(step2["missing"])
display(step2["top_categories"])

# %%
from IPython.display import Image

for _png in step2["plots"]:
    display(Image(filename=_png))
