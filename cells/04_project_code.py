# %% [markdown] tags=["quickstart"]
# ## Quick Start
# Run this section top to bottom for a complete tiny run (about a minute): it writes the project's code,
# then trains and evaluates TF-IDF + Logistic Regression on a 10k-row sample (see the last cell).
#
# ### Project code: the modules in `src/`
# The notebook's logic lives in plain Python modules so that it can be tested, reused and run outside
# Colab. Each cell below writes one module to `PROJECT_ROOT/src/` with `%%writefile` (collapse this section
# once it has run). The cells are generated from the repository's `cells/src/` files, byte for byte; edit
# those files, not these cells.

# %% src="config.py" tags=["quickstart"]

# %% src="atomic.py" tags=["quickstart"]

# %% src="runlog.py" tags=["quickstart"]

# %% src="project.py" tags=["quickstart"]

# %% src="setup_run.py" tags=["quickstart"]

# %% src="acquire.py" tags=["quickstart"]

# %% src="demo_data.py" tags=["quickstart"]

# %% src="data.py" tags=["quickstart"]

# %% src="preprocess.py" tags=["quickstart"]

# %% src="eda.py" tags=["quickstart"]

# %% src="feature_engineering.py" tags=["quickstart"]

# %% src="baselines.py" tags=["quickstart"]

# %% src="lstm.py" tags=["quickstart"]

# %% src="hybrid.py" tags=["quickstart"]

# %% src="neighbours.py" tags=["quickstart"]

# %% src="quickstart.py" tags=["quickstart"]

# %% src="project_docs.py" tags=["quickstart"]

# %% src="reproduce.py" tags=["quickstart"]

# %% src="device.py" tags=["quickstart"]

# %% src="sampling.py" tags=["quickstart"]

# %% src="splits.py" tags=["quickstart"]

# %% src="fallback.py" tags=["quickstart"]

# %% src="budget.py" tags=["quickstart"]

# %% src="tiny_model.py" tags=["quickstart"]

# %% src="embeddings.py" tags=["quickstart"]

# %% src="mean_pooling.py" tags=["quickstart"]

# %% src="finetune.py" tags=["quickstart"]

# %% src="tuning.py" tags=["quickstart"]

# %% src="inference.py" tags=["quickstart"]

# %% src="evaluate.py" tags=["quickstart"]

# %% src="ensemble.py" tags=["quickstart"]

# %% src="interpret.py" tags=["quickstart"]

# %% src="api/app.py" tags=["quickstart"]

# %% src="report.py" tags=["quickstart"]

# %% src="delivery.py" tags=["quickstart"]

# %% [markdown] tags=["quickstart"]
# Import the modules and build the one typed configuration (`cfg`) and the folder layout (`paths`) that every
# later cell uses. Change a knob with `cfg.<name> = ...` after this cell, or set a `PC_<NAME>` env variable.

# %% tags=["quickstart"]
import importlib

if SRC_DIR not in sys.path:
    sys.path.insert(0, SRC_DIR)
importlib.invalidate_caches()
import setup_run

cfg, paths = setup_run.init(RUN_MODE, PROJECT_ROOT, DATA_PATH, SAMPLE_SIZE, FORCE, MODEL_NAME, TIME_BUDGET_MINUTES,
                            parent_project_root=PARENT_PROJECT_ROOT)
