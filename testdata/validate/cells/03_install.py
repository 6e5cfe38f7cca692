# %% [markdown]
# ## Install dependencies

# %%
%%bash
pip install pandas==2.1.0 {not python (
