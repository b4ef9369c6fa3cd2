"""What every benchmark shares: the machine line it prints, and a tee that keeps its output for benchmarks/results/."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cpu_flags() -> str:
    """The CPU features that decide bf16/int8 speed (AVX-512, AVX512_BF16, AMX)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    flags = next((l.split(":", 1)[1].split() for l in text.splitlines() if l.startswith("flags")), [])
    wanted = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8")
    return " ".join(f for f in wanted if f in flags)


def load_average() -> str:
    """The 1/5/15-minute load average: other processes share these cores."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def describe() -> str:
    """One block of text naming the machine and software the figures were measured on."""
    import torch
    import transformers

    return (
        f"machine: {platform.platform()}; CPU: {cpu_model()} ({cpu_flags()}); {os.cpu_count()} cores; "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads); transformers {transformers.__version__}; "
        f"Python {platform.python_version()}\nload average at start: {load_average()}"
    )


class Tee:
    """Print to the screen and keep the lines for the results file."""

    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, *parts) -> None:
        line = " ".join(str(p) for p in parts)
        print(line, flush=True)
        self.lines.append(line)

    def save(self, name: str) -> None:
        """Write the kept lines to benchmarks/results/NAME."""
        (Path(__file__).resolve().parent / "results" / name).write_text("\n".join(self.lines) + "\n")
