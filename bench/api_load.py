"""API section: requests/s of POST /predict (cells/src/api/app.py under uvicorn, loopback)
next to constant endpoints on the same server (bench/constant_app.py), so the table says how
much of the ceiling the model leaves. Load: wrk (else ab) for a bounded time per endpoint.
"""
from __future__ import annotations

import json
from pathlib import Path

import loadgen
import serving
from tables import section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SRC = REPO / "cells" / "src"
CONNECTIONS = 8  # a handful of concurrent clients; more only queues on 2 cores


def run(quick: bool, out_dir: Path, log=print) -> dict:
    cols = ["endpoint", "server", "requests_per_s", "p50_ms", "p90_ms", "p99_ms", "requests", "non_2xx",
            "socket_errors", "tool"]
    tool = loadgen.load_generator()
    if tool is None:
        return section("API requests/s on loopback", cols, status="not run",
                       note="no load generator: apt-get install -y wrk (or apache2-utils for ab)")
    duration = 1.0 if quick else 10.0
    root, info = serving.serving_root(quick, out_dir, log)
    title, desc = serving.sample_texts(1)[0]
    body = lambda model: json.dumps({"title": title, "description": desc, "top_k": 3, "model": model}).encode()  # noqa: E731
    targets = [
        ("constant (bare ASGI, uvicorn only)", "constant_app:bare", HERE, {}, "baseline"),
        ("constant (FastAPI POST /predict)", "constant_app:fastapi_const", HERE, {}, "baseline"),
        ("/predict baseline (TF-IDF pipeline)", "app:app", SRC / "api",
         {"PROJECT_ROOT": str(root), "MODEL_KINDS": "baseline", "PYTHONPATH": str(SRC)}, "baseline"),
        (f"/predict bert ({info['bert']})", "app:app", SRC / "api",
         {"PROJECT_ROOT": str(root), "MODEL_KINDS": "bert", "PYTHONPATH": str(SRC)}, "bert"),
    ]
    rows = []
    for label, app, cwd, env, model in targets:
        with loadgen.serve(app, cwd=cwd, env=env, ready_path="/predict", ready_method="POST",
                           ready_json=json.loads(body(model))) as base:
            res = loadgen.hammer(base + "/predict", body(model), duration_s=duration, connections=CONNECTIONS)
        rows.append({"endpoint": label, "server": "uvicorn, 1 worker", **res})
        log(f"[api] {label}: {res['requests_per_s']:.0f} req/s, p50 {res['p50_ms']} ms, non-2xx {res['non_2xx']}")
    ceiling = rows[0]["requests_per_s"]
    figures = {f"{r['endpoint']} / bare ceiling": round(r["requests_per_s"] / ceiling, 3) for r in rows[1:]}
    bad = [r for r in rows if r["non_2xx"] or r["socket_errors"]]
    return section("API requests/s on loopback (POST /predict)", cols, rows, figures=figures,
                   status="error" if bad else "ok",
                   note=(f"{tool}, {CONNECTIONS} connections, 1 thread, {duration:g} s per endpoint, "
                         f"127.0.0.1 only; the load generator shares the CPU with the server."
                         + (f" {len(bad)} endpoint(s) answered errors." if bad else "")))
