# %% [markdown]
# ## Step 1 — Modules
# Writes `src/` files.

# %% src="helper.py"

# %% src="api/app.py" tags=["quickstart"]

# %%
%%bash
echo "bash cell: not Python { ("
