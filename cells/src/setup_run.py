"""Build the run's `cfg` and `paths` from the notebook parameters (called once, after the
modules are written to SRC_DIR).

    cfg, paths = setup_run.init(RUN_MODE, PROJECT_ROOT, DATA_PATH, SAMPLE_SIZE, FORCE, MODEL_NAME,
                                TIME_BUDGET_MINUTES)
"""
from __future__ import annotations

import os


def init(run_mode: str, project_root: str, data_path: str = "", sample_size: int = 10_000,
         force: bool = False, model_name: str = "", time_budget_minutes: float | str = 0, **overrides):
    """Config.for_mode(run_mode) + the parameters + PC_* env overrides; makes the tree and starts
    the run's clock (src/budget.py: the deadline the heavy steps are sized against)."""
    from config import Config, env_overrides
    from project import make_tree

    paths = make_tree(project_root)
    values = {"project_root": str(paths.root), "force": bool(force), "data_path": str(data_path or ""),
              "quickstart_sample": int(sample_size)}
    if model_name:
        values["model_name"] = model_name
    if time_budget_minutes not in (None, "", 0, "0"):
        values["time_budget_minutes"] = time_budget_minutes
    env = env_overrides()  # e.g. PC_LSTM_EPOCHS=1 from CI; coerced to the field types
    if env:
        coerced = Config.from_dict(env)
        values.update({k: getattr(coerced, k) for k in env})
    values.update(overrides)
    cfg = Config.for_mode(run_mode, **values)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    # Keras' serializer imports TensorFlow whenever it is installed (Colab has it), even on the torch
    # backend, to check for tf.TensorShape; without this TF's C++ start-up INFO lines land in the LSTM
    # step's output. Warnings and errors still show.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    import budget

    run_budget = budget.start(cfg, paths)
    print(f"RUN_MODE={cfg.run_mode}  PROJECT_ROOT={paths.root}  DATA_PATH={cfg.data_path or '(auto)'}  "
          f"SAMPLE_SIZE={cfg.quickstart_sample}  FORCE={cfg.force}  MODEL_NAME={cfg.model_name}  "
          f"TIME_BUDGET_MINUTES={run_budget.minutes:g}")
    return cfg, paths
