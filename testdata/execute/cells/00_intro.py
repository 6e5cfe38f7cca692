# %% [markdown]
# # Executor fixture
# A tiny notebook the execute tests run with a real kernel.

# %% [markdown]
# ## Quick Start
