"""Step 10: the FastAPI app run by a real uvicorn server (subprocess), called over HTTP."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

SRC = Path(__file__).resolve().parents[1] / "cells" / "src"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(root: Path):
    # Served from the project's own src/ copy, as in Colab: `uvicorn app:app --app-dir PROJECT_ROOT/src/api`.
    shutil.copytree(SRC, root / "src", dirs_exist_ok=True)
    port = _free_port()
    env = {**os.environ, "PROJECT_ROOT": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(root / "src" / "api"),
                             "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=str(root.parent),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("uvicorn did not start:\n" + proc.stdout.read().decode(errors="replace")[-2000:])
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(trained_root):
    yield from _serve(Path(trained_root))


@pytest.fixture(scope="module")
def titles_server(titles_root):
    yield from _serve(Path(titles_root))


def _bert(base: str, description) -> list:
    body = {"title": "Wireless Usb Keyboard", "top_k": 6, "model": "bert"}
    if description is not None:
        body["description"] = description
    r = httpx.post(base + "/predict", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["predictions"]


def test_bert_over_http_with_and_without_descriptions(server, titles_server):
    """The API feeds BERT what Step 6 trained it on, whatever the request carries."""
    pairs, titles = httpx.get(server + "/health").json(), httpx.get(titles_server + "/health").json()
    assert pairs["inputs"]["bert"].startswith("title + description")
    assert titles["inputs"]["bert"].startswith("title only")
    # trained on titles: a description in the request changes nothing
    assert _bert(titles_server, "laptop hub adapter") == _bert(titles_server, None) == _bert(titles_server, "")
    # trained on pairs: the description is read
    assert _bert(server, "laptop hub adapter") != _bert(server, None)


def test_health_lists_loaded_models(server):
    doc = httpx.get(server + "/health").json()
    assert doc["status"] == "ok" and doc["models"] == ["baseline", "bert"] and doc["errors"] == {}


@pytest.mark.parametrize("model", ["baseline", "bert"])
def test_predict(server, model):
    r = httpx.post(server + "/predict", json={"title": "Wireless Usb Keyboard", "description": "laptop hub",
                                              "top_k": 2, "model": model}, timeout=30)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["model"] == model and len(doc["predictions"]) == 2
    assert set(doc["predictions"][0]) == {"label", "probability"}


def test_description_is_optional_and_null_allowed(server):
    for body in ({"title": "Lego Puzzle Toy"}, {"title": "Lego Puzzle Toy", "description": None}):
        r = httpx.post(server + "/predict", json=body, timeout=30)
        assert r.status_code == 200 and len(r.json()["predictions"]) == 3


@pytest.mark.parametrize("body", [
    {},
    {"description": "no title"},
    {"title": ""},
    {"title": "   "},
    {"title": 123},
    {"title": ["a"]},
    {"title": "ok", "description": 5},
    {"title": "ok", "top_k": 0},
    {"title": "ok", "top_k": 21},
    {"title": "ok", "top_k": "3"},
    {"title": "ok", "model": "gpt"},
    {"title": "x" * 1001},
    {"title": "ok", "description": "y" * 10_001},
    {"title": "ok", "unexpected": 1},
])
def test_bad_requests_get_422(server, body):
    assert httpx.post(server + "/predict", json=body, timeout=30).status_code == 422


def test_non_json_body_gets_422(server):
    r = httpx.post(server + "/predict", content=b"title=x", headers={"content-type": "text/plain"}, timeout=30)
    assert r.status_code == 422
