# %% [markdown]
# # Tiny fixture notebook
#
# Checks the builder: "quotes", <html> & ampersands, non-ASCII café — naïve, tabs	here.

# %% [markdown]
# ## Quick Start
