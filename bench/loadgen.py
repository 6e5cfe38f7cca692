"""Serve an ASGI app with uvicorn on loopback and load it with wrk (or ab) for a bounded time.

The load generator is an existing tool, not ours: `wrk` (apt-get install -y wrk), else
ApacheBench `ab` (apt-get install -y apache2-utils) when wrk is absent. Both only ever
talk to 127.0.0.1, for `duration_s` seconds. wrk and the server share the machine's cores,
so requests/s are a lower bound of what a dedicated server would do; they are comparable
with each other because every endpoint is measured the same way, in the same run.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_generator() -> Optional[str]:
    for tool in ("wrk", "ab"):
        if shutil.which(tool):
            return tool
    return None


@contextlib.contextmanager
def serve(app: str, *, cwd: Path, env: Optional[dict] = None, ready_path: str = "/",
          ready_method: str = "GET", ready_json: Optional[dict] = None, timeout_s: float = 300.0,
          workers: int = 1) -> Iterator[str]:
    """Start `uvicorn app` on a free loopback port; yield its base URL once it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", "--no-access-log", "--workers", str(workers)]
    full_env = {**os.environ, **(env or {})}
    log = tempfile.TemporaryFile()
    # Own process group, so stopping it also stops any worker processes it forked.
    proc = subprocess.Popen(cmd, cwd=str(cwd), env=full_env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"uvicorn {app} exited with {proc.returncode}: "
                                   f"{log.read().decode(errors='replace')[-1500:]}")
            try:
                # generous: a first request pays lazy model loading, on a busy machine for seconds
                r = httpx.request(ready_method, base + ready_path, json=ready_json, timeout=60.0)
                if r.status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn {app} did not answer {ready_path} within {timeout_s:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(out: str) -> dict:
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if not rps:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out[-1500:]}")
    res = {"requests_per_s": float(rps.group(1))}
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s*{pct}(?:\.0+)?%\s+(\S+)", out, re.M)
        res[f"p{pct}_ms"] = round(_ms(m.group(1)), 3) if m else None
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    res["requests"] = int(total.group(1)) if total else None
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    res["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in errs.groups()) if errs else 0
    return res


def parse_ab(out: str) -> dict:
    rps = re.search(r"Requests per second:\s*([\d.]+)", out)
    if not rps:
        raise RuntimeError(f"ab printed no 'Requests per second':\n{out[-1500:]}")
    res = {"requests_per_s": float(rps.group(1))}
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s*{pct}%\s+(\d+)", out, re.M)
        res[f"p{pct}_ms"] = float(m.group(1)) if m else None
    done = re.search(r"Complete requests:\s*(\d+)", out)
    res["requests"] = int(done.group(1)) if done else None
    non2xx = re.search(r"Non-2xx responses:\s*(\d+)", out)
    failed = re.search(r"Failed requests:\s*(\d+)", out)
    res["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    res["socket_errors"] = int(failed.group(1)) if failed else 0
    return res


def hammer(url: str, body: bytes, *, duration_s: float, connections: int = 8, threads: int = 1,
           tool: Optional[str] = None) -> dict:
    """POST `body` (JSON) to `url` for duration_s seconds; requests/s and latency percentiles."""
    tool = tool or load_generator()
    if tool is None:
        raise FileNotFoundError("no load generator: apt-get install -y wrk (or apache2-utils for ab)")
    with tempfile.TemporaryDirectory() as d:
        if tool == "wrk":
            script = Path(d) / "post.lua"
            lua_body = body.decode().replace("\\", "\\\\").replace("'", "\\'")
            script.write_text(f"wrk.method = 'POST'\nwrk.body = '{lua_body}'\n"
                              "wrk.headers['Content-Type'] = 'application/json'\n", encoding="utf-8")
            # --timeout 30s: a slow model is a measurement, not a socket error (wrk's default is 2 s)
            cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s", "--timeout", "30s",
                   "--latency", "-s", str(script), url]
            parse = parse_wrk
        else:
            body_file = Path(d) / "body.json"
            body_file.write_bytes(body)
            cmd = ["ab", "-q", "-k", "-s", "30", "-c", str(connections), "-t", str(max(1, round(duration_s))),
                   "-n", "10000000", "-p", str(body_file), "-T", "application/json", url]
            parse = parse_ab
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed ({proc.returncode}): {proc.stderr[-800:] or proc.stdout[-800:]}")
    res = parse(proc.stdout)
    res.update(tool=tool, connections=connections, duration_s=duration_s)
    return res
