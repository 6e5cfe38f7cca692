"""The run scripts (run_in_colab.sh from Step 1, run_all_colab.sh from Step 12) and config_colab.yaml:
one generator, every step listed, and a listed step really re-runs with the saved settings."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import yaml

import reproduce
from config import Config
from conftest import REPO, SRC
from project import make_tree

SCRIPTS = ("run_in_colab.sh", "run_all_colab.sh")


def notebook_steps() -> dict[str, str]:
    """Step number -> title, from the notebook's '## Step N — title' headings."""
    found = {}
    for f in sorted((REPO / "cells").glob("*.py")):
        for m in re.finditer(r"^# ## Step (\d+) — (.+)$", f.read_text(encoding="utf-8"), re.M):
            found[m.group(1)] = m.group(2).strip()
    return found


def test_both_scripts_list_every_notebook_step(tmp_path):
    paths = make_tree(str(tmp_path))
    cfg = Config.for_mode("smoke", project_root=str(tmp_path))
    steps = notebook_steps()
    assert list(steps) == [str(n) for n in range(1, 13)]
    assert {s.key: s.title for s in reproduce.STEPS} == steps
    texts = {}
    for name in SCRIPTS:
        path = reproduce.write_run_script(cfg, paths, name)
        assert os.access(path, os.X_OK), name
        texts[name] = text = path.read_text(encoding="utf-8")
        assert text.startswith("#!/usr/bin/env bash\n") and "papermill" in text
        for key, title in steps.items():
            assert re.search(rf"^step {key} +# Step {key} — {re.escape(title)}: ", text, re.M), (name, key)
    # one generator: the scripts differ in their purpose line and usage name only
    strip = [re.sub(r"run_(in|all)_colab\.sh", "NAME", t).split("\n", 2)[2] for t in texts.values()]
    assert strip[0] == strip[1]


def _project(tmp_path, **overrides):
    root = tmp_path / "proj"
    paths = make_tree(str(root))
    shutil.rmtree(paths.src)
    shutil.copytree(SRC, paths.src)
    cfg = Config.for_mode("smoke", project_root=str(root), **overrides)
    reproduce.write_config(cfg, paths)
    return paths, reproduce.write_run_script(cfg, paths, "run_all_colab.sh")


def _bash(script, *args, **env):
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("PC_") and k not in ("PROJECT_ROOT", "RUN_MODE")}
    run_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + run_env.get("PATH", "")
    run_env.update(env)
    return subprocess.run(["bash", str(script), *args], cwd="/", env=run_env, capture_output=True, text=True,
                          timeout=300)


def test_a_listed_step_reruns_with_the_saved_settings(tmp_path):
    paths, script = _project(tmp_path, n_trials=3, rf_n_estimators=7)
    proc = _bash(script, "1", PC_SEED="7")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "=== Step 1 — Problem understanding & setup" in proc.stdout
    assert "## Problem" in (paths.readme).read_text(encoding="utf-8")
    assert os.access(paths.root / "run_in_colab.sh", os.X_OK)
    saved = yaml.safe_load((paths.root / "config_colab.yaml").read_text(encoding="utf-8"))
    # Step 1 wrote config_colab.yaml again from what it read back: the saved values, PC_* on top
    assert saved["config"]["run_mode"] == "smoke" and saved["config"]["n_trials"] == 3
    assert saved["config"]["rf_n_estimators"] == 7 and saved["config"]["seed"] == 7
    assert saved["config"]["project_root"] == str(paths.root) and "used" in saved


def test_an_unknown_step_is_refused_before_anything_runs(tmp_path):
    paths, script = _project(tmp_path)
    proc = _bash(script, "13")
    assert proc.returncode == 2 and "unknown step 13" in proc.stderr
    assert not paths.readme.exists()
