# %% [markdown]
# # Product categorization (fixture)
# Set the runtime to GPU, then run the Quick Start.

# %% [markdown]
# ## Quick Start

# %% tags=["quickstart"]
print("quick start")
