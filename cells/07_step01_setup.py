# %% [markdown]
# ## Step 1 — Problem understanding & setup
# Writes the problem statement to `README.md`, the working assumptions (multi-word categories, missing
# descriptions, rare classes, duplicates) to `NOTES.md`, the package versions present to `requirements.txt` /
# `environment.yml`, the commands to `run_in_colab.sh`, and the configuration to `config_colab.yaml`.

# %%
import project_docs

step1 = project_docs.run(cfg, paths)
print(step1["problem"])
print("\n".join(step1["files"]))
