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

from pipeline_fixtures import copy_project

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
    log = root.parent / "uvicorn.log"  # a file, not a pipe: nothing blocks on output nobody reads
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(root / "src" / "api"),
                                 "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=str(root.parent),
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        # Loading torch and the models takes minutes on a loaded machine: wait for the server to answer
        # or to exit; the deadline only guards against one that hangs.
        deadline = time.monotonic() + 900
        while True:
            try:
                if httpx.get(base + "/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=30)
                raise RuntimeError("uvicorn did not start:\n" + log.read_text(errors="replace")[-2000:])
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(trained_root, tmp_path_factory):
    yield from _serve(copy_project(trained_root, tmp_path_factory.mktemp("api")).root)


@pytest.fixture(scope="module")
def titles_server(titles_root, tmp_path_factory):
    yield from _serve(copy_project(titles_root, tmp_path_factory.mktemp("api_titles")).root)


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
