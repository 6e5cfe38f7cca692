"""Install only what the runtime lacks, and record the package versions actually present.

Colab already ships torch, numpy, pandas, scikit-learn, transformers, keras, nltk...; reinstalling
or pinning them breaks the runtime ("numpy.dtype size changed"). So `ensure_packages` installs
only missing packages (lime, optuna, fpdf2) at the versions CI tests, and only inside Colab;
elsewhere it prints what is missing and how to install it. EXTRA_PACKAGES is the one list of
what the notebook adds: the install cell installs it, `validate` accepts imports of it, and
env/refresh.py resolves the Colab-faithful test environment with it.
`write_requirements` writes PROJECT_ROOT/requirements.txt + environment.yml from
importlib.metadata (what is really installed), so they never disagree with the run.

    import environment
    environment.ensure_packages(in_colab=IN_COLAB)   # the install cell
    environment.write_requirements(paths)        # Step 1
"""
from __future__ import annotations

import importlib.metadata as md
import platform
import subprocess
import sys
from typing import Optional

# Packages Colab lacks, pinned to the versions env/roots-test.txt pins (the test suite runs on them).
EXTRA_PACKAGES = {"lime": "0.2.0.1", "optuna": "4.5.0", "fpdf2": "2.8.4"}
# Packages the notebook uses that Colab already has: never installed/pinned by us. Every distribution
# the code imports (a test checks it against what `validate` finds), plus what they need at run time:
# accelerate (Trainer), tensorboard (training logs), h5py (lstm.h5), uvicorn (the API), nbconvert (PDF).
PREINSTALLED = ("numpy", "pandas", "scikit-learn", "scipy", "pyarrow", "torch", "transformers", "tokenizers",
                "safetensors", "accelerate", "keras", "h5py", "tensorboard", "matplotlib", "joblib", "tqdm",
                "pyyaml", "nltk", "shap", "kagglehub", "fastapi", "pydantic", "uvicorn", "ipython", "nbformat",
                "nbconvert")
RECORDED = PREINSTALLED + tuple(EXTRA_PACKAGES)


def version(name: str) -> Optional[str]:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def missing(packages: dict[str, str] = EXTRA_PACKAGES) -> dict[str, str]:
    return {n: v for n, v in packages.items() if version(n) is None}


def ensure_packages(packages: dict[str, str] = EXTRA_PACKAGES, in_colab: Optional[bool] = None,
                    runner=subprocess.run) -> dict:
    """pip-install the missing packages in Colab; elsewhere only report them.

    The install cell passes in_colab: it runs before project.py is written.
    """
    if in_colab is None:
        from project import in_colab as _in_colab

        in_colab = _in_colab()
    colab = in_colab
    todo = missing(packages)
    present = {n: version(n) for n in packages if n not in todo}
    if not todo:
        print("All extra packages already installed:", ", ".join(f"{n}=={v}" for n, v in present.items()))
        return {"installed": [], "present": present, "missing": []}
    specs = [f"{n}=={v}" for n, v in todo.items()]
    if not colab:
        print("Not in Colab: not installing anything. Missing: " + ", ".join(specs)
              + f"\nInstall them into this environment with:  {sys.executable} -m pip install " + " ".join(specs)
              + "\n(the steps that need them say so and fall back where they can).")
        return {"installed": [], "present": present, "missing": list(todo)}
    print("Installing only what this runtime lacks:", " ".join(specs))
    proc = runner([sys.executable, "-m", "pip", "install", "--quiet", *specs], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(specs)} failed:\n{proc.stderr[-2000:]}")
    md_cache_clear()
    return {"installed": specs, "present": present, "missing": [n for n in todo if version(n) is None]}


def md_cache_clear() -> None:
    import importlib

    importlib.invalidate_caches()


def installed_versions(names=RECORDED) -> dict[str, str]:
    return {n: v for n in names if (v := version(n)) is not None}


def write_requirements(paths) -> dict:
    """requirements.txt and environment.yml with the versions present in this runtime."""
    from atomic import atomic_write_text

    vers = installed_versions()
    py = platform.python_version()
    header = (f"# Versions present in the runtime that produced these artifacts (Python {py}).\n"
              "# In Colab, do NOT reinstall numpy/pandas/torch/transformers: install only missing packages.\n")
    req = header + "".join(f"{n}=={v}\n" for n, v in sorted(vers.items()))
    env = (f"name: product-categorization\nchannels:\n  - conda-forge\ndependencies:\n  - python={py}\n  - pip\n"
           "  - pip:\n" + "".join(f"      - {n}=={v}\n" for n, v in sorted(vers.items())))
    atomic_write_text(paths.root / "requirements.txt", req)
    atomic_write_text(paths.root / "environment.yml", env)
    return {"python": py, "packages": vers, "files": [str(paths.root / "requirements.txt"),
                                                      str(paths.root / "environment.yml")]}
