# %% [markdown]
# ## Final delivery

# %%
print("done")
