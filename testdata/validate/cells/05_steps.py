# %% [markdown]
# ## Step 1 — Section 1
# Goal of step 1.

# %%
step_1 = 1

# %% [markdown]
# ## Step 2 — Section 2
# Goal of step 2.

# %%
step_2 = 2

# %% [markdown]
# ## Step 3 — Section 3
# Goal of step 3.

# %%
step_3 = 3

# %% src="helper.py"

# %% [markdown]
# ## Step 4 — Section 4
# Goal of step 4.

# %%
step_4 = 4

# %% [markdown]
# ## Step 5 — Section 5
# Goal of step 5.

# %%
step_5 = 5

# %% [markdown]
# ## Step 6 — Section 6
# Goal of step 6.

# %%
step_6 = 6

# %% [markdown]
# ## Step 7 — Section 7
# Goal of step 7.

# %%
step_7 = 7

# %% [markdown]
# ## Step 8 — Section 8
# Goal of step 8.

# %%
step_8 = 8

# %% [markdown]
# ## Step 9 — Section 9
# Goal of step 9.

# %%
step_9 = 9

# %% [markdown]
# ## Step 10 — Section 10
# Goal of step 10.

# %%
step_10 = 10

# %% [markdown]
# ## Step 11 — Section 11
# Goal of step 11.

# %%
step_11 = 11

# %% [markdown]
# ## Step 12 — Section 12
# Goal of step 12.

# %%
step_12 = 12

