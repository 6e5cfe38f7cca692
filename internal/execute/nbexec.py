"""Execute a notebook cell by cell with a real Jupyter kernel (used by `run`).

The Go side writes the notebook to execute at config["notebook"]; this script
runs it with nbclient and rewrites that file after every cell, so a failure,
a timeout or a kill still leaves the outputs produced so far.

stdin:  JSON {"notebook": path, "kernel": "python3", "cwd": dir,
              "timeout": seconds per cell or null, "startup_timeout": seconds}
stdout: one JSON event per line:
  {"event": "cell", "index": i}                         a code cell starts
  {"event": "stream", "index": i, "name": "stdout", "text": "..."}
  {"event": "cell_done", "index": i, "seconds": s}
  {"event": "failed", "kind": "cell_error"|"timeout"|"dead_kernel"|"startup",
   "index": i, "ename": str, "evalue": str, "traceback": [str]}
  {"event": "finished"}
Exit status: 0 when every cell ran, 1 after a "failed" event, 2 on bad input.
"""
import json
import os
import signal
import sys
import time
import traceback

# Keep the event channel clean: anything else that prints (libraries, the
# kernel's own stdout before it redirects) goes to stderr instead.
_EVENTS = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr


def emit(**event):
    _EVENTS.write(json.dumps(event, ensure_ascii=False) + "\n")
    _EVENTS.flush()


_CLIENT = None


def _terminate(signum, frame):
    # Turn SIGTERM into an exception so the setup_kernel() block shuts the
    # kernel down instead of leaving it orphaned; a busy kernel would not
    # answer a polite shutdown request, so kill it.
    if _CLIENT is not None:
        _CLIENT.shutdown_kernel = "immediate"
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cfg = json.load(sys.stdin)
    except Exception:
        traceback.print_exc()
        return 2
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as exc:
        emit(event="failed", kind="startup", index=-1, ename="ImportError",
             evalue=f"{sys.executable} lacks {exc.name} (needs nbformat, nbclient, ipykernel): {exc}",
             traceback=[])
        return 1

    path = cfg["notebook"]
    nb = nbformat.read(path, as_version=4)

    def save():
        tmp = path + ".tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, path)

    class StreamingClient(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            if msg["msg_type"] == "stream":
                content = msg["content"]
                emit(event="stream", index=cell_index, name=content["name"], text=content["text"])
            return super().output(outs, msg, display_id, cell_index)

    client = StreamingClient(
        nb,
        kernel_name=cfg.get("kernel") or "python3",
        timeout=cfg.get("timeout"),
        startup_timeout=cfg.get("startup_timeout") or 60,
        resources={"metadata": {"path": cfg.get("cwd") or os.getcwd()}},
        allow_errors=False,
        record_timing=True,
    )

    global _CLIENT
    _CLIENT = client

    def fail(kind, index, ename="", evalue="", tb=None):
        # A failed kernel will not answer a polite shutdown request.
        client.shutdown_kernel = "immediate"
        emit(event="failed", kind=kind, index=index, ename=ename, evalue=evalue, traceback=tb or [])

    current = -1
    failed = False
    try:
        try:
            ctx = client.setup_kernel()
            ctx.__enter__()
        except Exception as exc:
            fail("startup", -1, type(exc).__name__, str(exc), traceback.format_exc().splitlines())
            return 1
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                current = index
                emit(event="cell", index=index)
                started = time.monotonic()
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError as exc:
                    fail("timeout", index, "CellTimeoutError", str(exc).splitlines()[0] if str(exc) else "")
                    failed = True
                except DeadKernelError as exc:
                    fail("dead_kernel", index, "DeadKernelError", str(exc))
                    failed = True
                except CellExecutionError as exc:
                    errs = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                    if errs:
                        e = errs[-1]
                        fail("cell_error", index, e.get("ename", ""), e.get("evalue", ""), e.get("traceback", []))
                    else:
                        fail("cell_error", index, exc.ename, exc.evalue, str(exc.traceback).splitlines())
                    failed = True
                save()
                if failed:
                    break
                emit(event="cell_done", index=index, seconds=round(time.monotonic() - started, 3))
        finally:
            ctx.__exit__(None, None, None)
    except KeyboardInterrupt as exc:
        fail("interrupted", current, "KeyboardInterrupt", str(exc))
        save()
        return 1
    if failed:
        return 1
    emit(event="finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
