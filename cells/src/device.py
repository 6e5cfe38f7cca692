"""GPU detection and the mixed-precision choice for this runtime.

Colab's free T4 (compute capability 7.5) reports bf16 as supported but runs it ~4x
slower than fp16, so the choice is made on compute capability, not on
`torch.cuda.is_bf16_supported()`: fp16 below 8.0, bf16 from 8.0 (A100/L4/H100).

    import device
    info = device.run(cfg, paths)   # prints and logs the device
"""
from __future__ import annotations

import os
from typing import Any


def device_info() -> dict[str, Any]:
    """What torch sees: CUDA availability, GPU name/memory/capability, CPU count. `device` is the
    GPU's name or "cpu". Without torch (the Quick Start's own environment has none) it is the CPU."""
    try:
        import torch
    except ImportError:
        torch = None
    info: dict[str, Any] = {
        "cuda_available": bool(torch is not None and torch.cuda.is_available()),
        "torch_version": torch.__version__ if torch is not None else None,
        "cpu_count": os.cpu_count() or 1,
        "gpu_name": None,
        "gpu_memory_gb": None,
        "compute_capability": None,
    }
    if info["cuda_available"]:
        props = torch.cuda.get_device_properties(0)
        info["gpu_name"] = props.name
        info["gpu_memory_gb"] = round(props.total_memory / 1024**3, 1)
        info["compute_capability"] = f"{props.major}.{props.minor}"
    info.update(precision_flags(info))
    info["device"] = info["gpu_name"] if info["cuda_available"] else "cpu"
    return info


def precision_flags(info: dict[str, Any], use_cpu: bool = False) -> dict[str, bool]:
    """fp16 on GPUs below compute capability 8 (T4), bf16 from 8 (A100, L4), neither on CPU."""
    cap = info.get("compute_capability")
    if use_cpu or not info.get("cuda_available") or not cap:
        return {"fp16": False, "bf16": False}
    major = int(str(cap).split(".")[0])
    return {"fp16": major < 8, "bf16": major >= 8}


def describe(info: dict[str, Any]) -> str:
    if not info["cuda_available"]:
        return (f"torch.cuda.is_available() = False: training runs on CPU ({info['cpu_count']} cores). "
                "In Colab choose Runtime -> Change runtime type -> GPU.")
    prec = "bf16" if info["bf16"] else "fp16" if info["fp16"] else "fp32"
    return (f"torch.cuda.is_available() = True: {info['gpu_name']}, {info['gpu_memory_gb']} GB, "
            f"compute capability {info['compute_capability']} -> mixed precision {prec}.")


def run(cfg, paths) -> dict[str, Any]:
    """Print and log the device this run trains on."""
    from runlog import log_summary

    info = device_info()
    text = describe(info)
    print(text)
    log_summary(paths, "device", text)
    return info
