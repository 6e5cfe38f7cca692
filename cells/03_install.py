# %% [markdown] tags=["quickstart"]
# ## Install: environment & dependencies
# Colab already has torch, numpy, pandas, scikit-learn, transformers, keras, nltk and more; reinstalling
# or pinning them breaks the runtime. This cell installs **only what is missing** (pinned to the versions
# tested in CI) and does nothing when everything is present. Step 1 writes the versions actually present
# to `requirements.txt` and `environment.yml`.

# %% tags=["quickstart"]
import importlib.metadata
import subprocess

EXTRA_PACKAGES = {"lime": "0.2.0.1", "optuna": "4.5.0"}  # keep equal to environment.EXTRA_PACKAGES


def _installed(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


_missing = [f"{n}=={v}" for n, v in EXTRA_PACKAGES.items() if _installed(n) is None]
if not _missing:
    print("Already installed:", ", ".join(f"{n}=={_installed(n)}" for n in EXTRA_PACKAGES))
elif IN_COLAB:
    print("Installing only what this runtime lacks:", " ".join(_missing))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *_missing], check=True)
    importlib.invalidate_caches()
else:
    print("Not in Colab, so nothing is installed. Missing:", " ".join(_missing))
    print(f"Install them with: {sys.executable} -m pip install " + " ".join(_missing))
    print("(steps needing them say so and fall back where they can)")
