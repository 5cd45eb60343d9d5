"""What the scripts in `benchmarks/` share: the machine, fits, formatting.

Every benchmark records where it ran (backend version, device, CPUs it
may use) beside its numbers, fits scaling exponents the same way and
prints the same table cells; one definition keeps their results
comparable.
"""

import math
import os
import platform

import numpy as np


def available_cpus():
    """CPUs this process may run on (its affinity mask, not the machine).

    `taskset -c 0 python benchmarks/...` pins a benchmark to one core; the
    report then says 1.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def backend_version(backend):
    """The version of the backend's library, e.g. `"0.10.2"` for jax."""
    try:
        return __import__(backend).__version__
    except Exception as error:  # informative only
        return f"unknown ({error})"


def device_name(backend):
    """The accelerator's model name (e.g. `"NVIDIA H100 80GB HBM3"`), or
    `"cpu (<processor>)"` when the backend runs on the CPU."""
    try:
        if backend == "jax":
            import jax

            kind = str(jax.devices()[0].device_kind)
            if kind != "cpu":
                return kind
        if backend == "torch":
            import torch

            if torch.cuda.is_available():
                return torch.cuda.get_device_name(0)
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return details.get("device_name", gpus[0].name)
    except Exception as error:  # informative only
        return f"unknown ({error})"
    return f"cpu ({platform.processor() or platform.machine()})"


def accelerator_peak_bytes(backend):
    """Peak accelerator memory this process has held, in bytes, or None.

    None when the backend runs on the CPU (where the host's resident-set
    high-water mark is the measure) or does not report it. The peak
    counts from the start of the process, like the resident-set mark, so
    a benchmark that goes through sizes in increasing order reads each
    size's own peak.
    """
    try:
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform == "cpu":
                return None
            stats = device.memory_stats() or {}
            peak = stats.get("peak_bytes_in_use")
            return None if peak is None else int(peak)
        if backend == "torch":
            import torch

            if torch.cuda.is_available():
                return int(torch.cuda.max_memory_allocated())
        if backend == "tensorflow":
            import tensorflow as tf

            if tf.config.list_physical_devices("GPU"):
                info = tf.config.experimental.get_memory_info("GPU:0")
                return int(info["peak"])
    except Exception:  # informative only: no reading rather than a crash
        return None
    return None


def fit_exponent(lengths, values):
    """Least-squares slope of log(value) against log(length), or None.

    Points with a missing or non-positive value are left out; fewer than
    two distinct lengths give None. A time that grows linearly in the
    length has exponent 1, a quadratic one 2.

    Example:

    >>> fit_exponent([256, 512, 1024], [1.0, 4.0, 16.0])
    2.0
    """
    points = [
        (math.log(n), math.log(v))
        for n, v in zip(lengths, values, strict=True)
        if v is not None and v > 0
    ]
    if len({p[0] for p in points}) < 2:
        return None
    x, y = np.array(points).T
    return round(float(np.polyfit(x, y, 1)[0]), 4)


def fmt(value, digits=3):
    """A table cell: `"-"` for None, pass/FAIL for a bool, else `digits`
    significant digits."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "pass" if value else "FAIL"
    return f"{value:.{digits}g}"
