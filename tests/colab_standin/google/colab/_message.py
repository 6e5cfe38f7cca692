"""Colab's kernel -> frontend requests (google/colab/_message.py in colabtools).

The real `blocking_request` sends a `colab_request` on the kernel's iopub channel and waits
for the browser's `colab_reply`; it returns the reply's data, or None when `timeout_sec` passes
without one. Here `_frontend` answers for the browser.
"""
from __future__ import annotations

import json

from google.colab import _frontend, errors


class MessageError(errors.Error):
    """Thrown on error response from frontend."""


def _reply(request_type, request):
    if request_type == "get_ipynb":
        path = _frontend.state().get("notebook")
        if not path:
            return None
        with open(path, encoding="utf-8") as fh:
            return {"ipynb": json.load(fh)}
    if request_type == "GetSecret":
        secret = _frontend.state().get("secrets", {}).get(request.get("key"))
        if secret is None:
            return {"exists": False}
        return {"exists": True, "access": bool(secret.get("access", True)), "payload": secret.get("value", "")}
    if request_type == "request_auth":
        return {}
    return None  # a request this frontend does not answer: the real call times out


def blocking_request(request_type, request="", timeout_sec=5, parent=None):
    """Calls the front end with a request, and blocks until a reply is received.

    Returns the frontend's reply (a JSON-able object), or None if the timeout occurs.
    """
    _frontend.log(request_type, body=request if request_type != "GetSecret" else {"key": request.get("key")})
    return _reply(request_type, request)
