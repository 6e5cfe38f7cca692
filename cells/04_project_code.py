# %% [markdown] tags=["quickstart"]
# ## Quick Start
# Run this section top to bottom for a complete tiny run (about a minute): it writes the project's code,
# then trains and evaluates TF-IDF + Logistic Regression on a 10k-row sample (see the last cell).
#
# ### Project code: the modules in `src/`
# The notebook's logic lives in plain Python modules so that it can be tested, reused and run outside
# Colab. Each cell below writes one module to `PROJECT_ROOT/src/` with `%%writefile` (collapse this section
# once it has run). The cells are generated from the repository's `cells/src/` files, byte for byte; edit
# those files, not these cells. Modules used only by later steps are written in those steps.

# %% src="config.py" tags=["quickstart"]

# %% src="project.py" tags=["quickstart"]

# %% src="setup_run.py" tags=["quickstart"]

# %% src="environment.py" tags=["quickstart"]

# %% src="acquire.py" tags=["quickstart"]

# %% src="demo_data.py" tags=["quickstart"]

# %% src="data.py" tags=["quickstart"]

# %% src="preprocess.py" tags=["quickstart"]

# %% src="eda.py" tags=["quickstart"]

# %% src="feature_engineering.py" tags=["quickstart"]

# %% src="baselines.py" tags=["quickstart"]

# %% src="quickstart.py" tags=["quickstart"]

# %% src="project_docs.py" tags=["quickstart"]

# %% [markdown] tags=["quickstart"]
# Import the modules and build the one typed configuration (`cfg`) and the folder layout (`paths`) that every
# later cell uses. Change a knob with `cfg.<name> = ...` after this cell, or set a `PC_<NAME>` env variable.

# %% tags=["quickstart"]
import importlib

if SRC_DIR not in sys.path:
    sys.path.insert(0, SRC_DIR)
importlib.invalidate_caches()
import setup_run

cfg, paths = setup_run.init(RUN_MODE, PROJECT_ROOT, DATA_PATH, SAMPLE_SIZE, FORCE, MODEL_NAME)
