"""Benchmark results as data: sections of rows, the machine they ran on, and their Markdown.

A section is a dict {"title", "status", "note", "columns", "rows", "figures"}; bench/run.py
fills them, this module turns the whole result into bench.json and bench.md, and
bench/render_readme.py re-renders the same Markdown into README.md from bench.json alone
(so the README can't disagree with the measured numbers).
"""
from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path
from typing import Any, Iterable

SECTION_ORDER = ("quality", "quality_gap", "quality_rerun", "quality_rerun_gap", "finetune_recipe", "quickstart",
                 "install", "scale", "train_throughput", "gpu", "latency", "api", "go_tool")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    """CPU model, usable cores and RAM as /proc and cgroups report them."""
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+)\s*kB", _read("/proc/meminfo"), re.M)
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    info: dict[str, Any] = {
        "cpu_model": model.group(1).strip() if model else platform.processor() or "unknown",
        "cpu_cores": usable,
        "ram_gib": round(int(mem.group(1)) / 1024 ** 2, 1) if mem else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    # A container may see the host's /proc but be capped by its cgroup: report the cap too.
    cpu_max = _read("/sys/fs/cgroup/cpu.max").split()
    if len(cpu_max) == 2 and cpu_max[0] != "max":
        info["cgroup_cpus"] = round(int(cpu_max[0]) / int(cpu_max[1]), 2)
    mem_max = _read("/sys/fs/cgroup/memory.max").strip()
    if mem_max.isdigit():
        info["cgroup_ram_gib"] = round(int(mem_max) / 1024 ** 3, 1)
    info["gpu"] = _nvidia_gpu()
    return info


def _nvidia_gpu() -> str | None:
    """GPU name from nvidia-smi (importing torch just to ask would cost seconds)."""
    import shutil
    import subprocess

    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.splitlines()[0] if out else None


def machine_line(m: dict[str, Any]) -> str:
    parts = [f"{m.get('cpu_model', '?')}", f"{m.get('cpu_cores', '?')} cores", f"{m.get('ram_gib', '?')} GiB RAM"]
    if m.get("cgroup_cpus"):
        parts.append(f"cgroup limit {m['cgroup_cpus']} CPUs")
    parts.append(f"GPU: {m['gpu']}" if m.get("gpu") else "no GPU")
    return ", ".join(parts)


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def section(title: str, columns: list[str], rows: list[dict] | None = None, *, status: str = "ok",
            note: str = "", figures: dict | None = None, md_columns: list[str] | None = None) -> dict:
    """md_columns: the subset shown in Markdown (README width); JSON keeps every column."""
    sec = {"title": title, "status": status, "note": note, "columns": list(columns),
           "rows": list(rows or []), "figures": dict(figures or {})}
    if md_columns:
        sec["md_columns"] = list(md_columns)
    return sec


def fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != v:  # NaN
            return "–"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: list[str], rows: Iterable[dict]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def to_markdown(result: dict, heading_level: int = 3) -> str:
    """The whole benchmark as Markdown: machine line, then one table per section."""
    h = "#" * heading_level
    m = result.get("machine", {})
    out = [f"Measured {result.get('date', '?')} on {machine_line(m)} "
           f"(`{result.get('command', 'bench/run.py')}`{', quick subset' if result.get('quick') else ''}).", ""]
    if result.get("nice"):
        out[0] += f" Ran at nice {result['nice']} (lower CPU priority than other processes)."
    if result.get("thread_env"):
        out[0] += " Thread limits set: " + ", ".join(f"{k}={v}" for k, v in result["thread_env"].items()) + "."
    load = result.get("load_avg_start")
    if load and m.get("cpu_cores") and max(load[0], result.get("load_avg_end", [0])[0]) > 0.5 * m["cpu_cores"]:
        out[0] += (f" Load average {load[0]:.1f} at the start and {result.get('load_avg_end', ['?'])[0]:.1f} "
                   f"at the end on {m['cpu_cores']} cores: other processes shared the CPU, so times are pessimistic.")
    sections = result.get("sections", {})
    for key in [k for k in SECTION_ORDER if k in sections] + [k for k in sections if k not in SECTION_ORDER]:
        out += section_markdown(sections[key], m, h, result.get("date"))
    return "\n".join(out).rstrip() + "\n"


def section_markdown(s: dict, m: dict, h: str = "###", result_date: str | None = None) -> list[str]:
    """One section's Markdown lines: heading (with its own date unless it is the result's), the
    conditions it ran under, its note, table and figures."""
    out: list[str] = []
    when = s.get("measured_at")
    out.append(f"{h} {s['title']}" + (f" (measured {when})" if when and when != result_date else ""))
    out.append("")
    cond = s.get("conditions") or {}
    if cond:
        la = cond.get("load_avg_1m", ["?", "?"])
        extra = [f"{k}={v}" for k, v in cond.items() if k not in ("load_avg_1m", "nice")]
        if cond.get("nice"):
            extra.append(f"nice {cond['nice']}")
        out.append(f"*Load average {la[0]} → {la[-1]} on {m.get('cpu_cores', '?')} cores"
                   + (f"; {', '.join(extra)}" if extra else "") + ".*")
        out.append("")
    for what, c in (s.get("reused_conditions") or {}).items():
        out.append(f"*{what}: reused from an earlier run: "
                   + (c if isinstance(c, str) else
                      f"measured {c.get('measured_at')}, load average {c.get('load_avg_1m')}, nice {c.get('nice')}"
                      + (f", OMP_NUM_THREADS={c['OMP_NUM_THREADS']}" if "OMP_NUM_THREADS" in c else ""))
                   + ".*")
        out.append("")
    if s["status"] != "ok":
        out.append(f"*{s['status']}*: {s.get('note', '')}")
        out.append("")
        if not s["rows"]:
            return out
    elif s.get("note"):
        out.append(s["note"])
        out.append("")
    if s["rows"]:
        out.append(markdown_table(s.get("md_columns") or s["columns"], s["rows"]))
        out.append("")
    if s.get("figures"):
        out.append("; ".join(f"{k}: **{fmt(v)}**" for k, v in s["figures"].items()))
        out.append("")
    return out


def to_text(result: dict) -> str:
    """Plain aligned tables for the terminal."""
    out = [f"{result.get('date')} | {machine_line(result.get('machine', {}))}"]
    for key, s in result.get("sections", {}).items():
        out.append("")
        out.append(f"== {s['title']} [{s['status']}] {s.get('note', '')}".rstrip())
        if not s["rows"]:
            continue
        cols = s["columns"]
        cells = [[fmt(r.get(c)) for c in cols] for r in s["rows"]]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
        out.append("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
        for row in cells:
            out.append("  ".join(v.ljust(w) for v, w in zip(row, widths)))
        if s.get("figures"):
            out.append("   " + "; ".join(f"{k}: {fmt(v)}" for k, v in s["figures"].items()))
    return "\n".join(out)
