# %% [markdown]
# ## Option A — upload a CSV

# %%
files = !ls /content
%cd /content
print(len(files))

# %% [markdown]
# ## Option B — Kaggle

# %%
!kaggle datasets download -d x/y
for f in files:
    !echo {f}
    %time len(f)

# %%
%%capture captured
import os
print(os.getcwd())
