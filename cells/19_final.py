# %% [markdown]
# ## Final — Delivery and paths
# Where everything is, how to share the notebook, and how to run it again. The same text is appended to
# `summary.txt` in the project folder.

# %%
import delivery
print(delivery.final_message(cfg, paths))
