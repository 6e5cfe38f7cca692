"""What Colab's browser frontend would answer, read from a state file (stand-in only).

In Colab the kernel asks the frontend for things only the browser knows: the files the user
picks in the upload widget, the notebook as it stands, the user's secrets, the Drive behind a
mount. Here the test that runs the notebook writes those answers to `google_colab_standin.json`
in the virtualenv's site-packages (beside the `.pth` file that puts this package on sys.path),
so they reach the kernel without passing through its environment (the executor passes only an
allowlist to the kernel); `$GOOGLE_COLAB_STANDIN_STATE`, when set, names another file:

    {"drive": "/tmp/x/users-drive",          # what drive.mount shows as <mountpoint>/MyDrive
     "uploads": [["/tmp/x/archive.zip"]],    # one list of files per files.upload() call;
                                             # when none is left the user cancels (returns {})
     "notebook": "/tmp/x/build/executed_smoke.ipynb",  # answer to get_ipynb
     "secrets": {"NAME": {"value": "...", "access": true}},  # absent: SecretNotFoundError
     "log": "/tmp/x/frontend.jsonl"}         # every request, one JSON line each
"""
from __future__ import annotations

import json
import os
import sysconfig
import time

STATE_FILE = "google_colab_standin.json"
_uploads_taken = 0


def state_path() -> str:
    return os.environ.get("GOOGLE_COLAB_STANDIN_STATE") or os.path.join(sysconfig.get_paths()["purelib"], STATE_FILE)


def state() -> dict:
    path = state_path()
    if not os.path.isfile(path):
        raise RuntimeError(f"google.colab stand-in: no frontend state at {path} "
                           "(tests/test_colab_run.py writes it for the run)")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def log(kind: str, **details) -> None:
    target = state().get("log")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"time": time.time(), "request": kind, **details}) + "\n")


def next_upload() -> list[str]:
    """The files the user picks in this upload widget ([] = cancelled)."""
    global _uploads_taken
    batches = state().get("uploads", [])
    if _uploads_taken >= len(batches):
        return []
    _uploads_taken += 1
    return list(batches[_uploads_taken - 1])
