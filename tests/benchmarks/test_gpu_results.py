"""The README's H200 step times are the ones in the results folder."""

import json
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[2]
GPU = REPO / "benchmarks" / "results" / "h200_2026-11-26"
CPU = REPO / "benchmarks" / "results"
POLICIES = ("float32", "mixed_bfloat16")


def rows(path):
    report = json.loads(path.read_text())
    return {(r["preset"], r["policy"]): r for r in report["rows"]}


def expected_cell(gpu, cpu, key):
    """How the README writes one (preset, policy) of one backend."""
    if key not in gpu:
        return "-"
    if "error" in gpu[key]:
        return "XLA compile error"
    ms = gpu[key]["median_ms"]
    return f"{ms:.3g} ms ({cpu[key]['median_ms'] / ms:.3g}x)"


def readme_rows():
    readme = (REPO / "README.md").read_text()
    section = readme.split("### On a GPU (one NVIDIA H200, 2026-11-26)")[1]
    table = section.split("| preset | jax float32 |")[1].split("\n\n")[0]
    found = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        found[cells[0].strip("`")] = cells[1:]
    return found


def test_readme_step_times_match_the_results():
    backends = [
        (rows(GPU / f"step_times_{b}.json"), rows(CPU / f"step_times_{b}.json"))
        for b in ("jax", "torch")
    ]
    table = readme_rows()
    assert len(table) >= 10
    for preset, cells in table.items():
        expected = [
            expected_cell(gpu, cpu, (preset, policy))
            for gpu, cpu in backends
            for policy in POLICIES
        ]
        assert cells == expected, preset


def test_the_gpu_run_was_on_the_gpu():
    for backend in ("jax", "torch"):
        report = json.loads((GPU / f"step_times_{backend}.json").read_text())
        assert report["device_name"] == "NVIDIA H200"
        assert report["settings"]["weights"] == "initial"
        cpu = json.loads((CPU / f"step_times_{backend}.json").read_text())
        assert cpu["device_name"].startswith("cpu (")


def test_readme_tf32_error_sizes_are_the_junit_ones():
    """README: the worst element of each of 149 tolerance failures was off
    by a median of 4.3e-4 (largest 0.076) absolute, 1.4% relative."""
    import gzip
    import statistics
    import xml.etree.ElementTree as ET

    with gzip.open(GPU / "junit_jax.xml.gz") as file:
        cases = list(ET.parse(file).iter("testcase"))
    failures = [c.find("failure") for c in cases]
    texts = [f.text or "" for f in failures if f is not None]
    assert len(texts) == 165

    def worst(kind):
        pattern = rf"Max {kind} difference among violations: ([\d.e+-]+)"
        return [
            max(map(float, found))
            for found in (re.findall(pattern, t) for t in texts)
            if found
        ]

    absolute, relative = worst("absolute"), worst("relative")
    assert len(absolute) == len(relative) == 149
    readme = (REPO / "README.md").read_text()
    count, median, largest, percent = re.search(
        r"In the (\d+)\s+that report it, the worst element was off by a "
        r"median of ([\d.e-]+)\s+\(largest ([\d.]+)\) absolute, "
        r"([\d.]+)% relative",
        readme,
    ).groups()
    assert int(count) == len(absolute)
    # Quoted to two significant digits.
    assert float(median) == float(f"{statistics.median(absolute):.2g}")
    assert float(largest) == float(f"{max(absolute):.2g}")
    assert float(percent) == float(f"{100 * statistics.median(relative):.2g}")
