"""Peak memory of the measuring process, shared by the benchmarks that measure in a child."""

from __future__ import annotations

import resource

__all__ = ["peak_mb"]


def peak_mb() -> float:
    """This process's own peak resident memory (MB). Not `ru_maxrss`: a child started by
    a larger parent reports the parent's size there (Linux keeps the maximum across fork
    and exec), so a benchmark that generates its data first would measure itself."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
