# %% [markdown] tags=["quickstart"]
# ## Install: environment & dependencies
# Colab already has torch, numpy, pandas, scikit-learn, transformers, keras, nltk and more; reinstalling
# or pinning them breaks the runtime. The first cell writes `src/environment.py`, which holds the one list of
# what this notebook adds (`EXTRA_PACKAGES`: lime, optuna and fpdf2, pinned to the versions tested in CI);
# the second installs **only what is missing** and does nothing when everything is present (outside Colab it
# installs nothing and prints the command). Step 1 writes the versions actually present to `requirements.txt`
# and `environment.yml`.

# %% src="environment.py" tags=["quickstart"]

# %% tags=["quickstart"]
if SRC_DIR not in sys.path:
    sys.path.insert(0, SRC_DIR)
import environment

environment.ensure_packages(in_colab=IN_COLAB)
