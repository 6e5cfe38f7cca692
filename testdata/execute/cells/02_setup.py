# %% tags=["quickstart"]
import json
import os
import sys

PROJECT_ROOT = PROJECT_ROOT_OVERRIDE or os.environ["PROJECT_ROOT"]
SRC_DIR = os.path.join(PROJECT_ROOT, "src")
os.makedirs(os.path.join(PROJECT_ROOT, "results"), exist_ok=True)
os.makedirs(SRC_DIR, exist_ok=True)
print("env", os.environ["PROJECT_ROOT"] == PROJECT_ROOT, os.environ["MPLBACKEND"], os.environ.get("KERAS_BACKEND", "unset"))
