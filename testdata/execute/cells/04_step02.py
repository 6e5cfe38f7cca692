# %% [markdown]
# ## Step 2 — Only in smoke and full runs

# %%
with open(os.path.join(PROJECT_ROOT, "full_ran.txt"), "w") as f:
    f.write(RUN_MODE)
