"""Tests of benchmarks/attention_scaling.py: analysis, skips, a tiny run."""

import argparse
import importlib.util
import json
import pathlib
import sys

import keras
import pytest

SCRIPT = (
    pathlib.Path(__file__).resolve().parents[2]
    / "benchmarks"
    / "attention_scaling.py"
)


def load_benchmark():
    spec = importlib.util.spec_from_file_location("attention_scaling", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()


def limits(max_seconds=30.0, max_memory_gib=12.0):
    return argparse.Namespace(
        max_seconds=max_seconds, max_memory_gib=max_memory_gib
    )


def synthetic_result(operator, batch_size, times_ms, memory_mib=None):
    """A worker report with the given median times, one row per length."""
    rows = []
    for length, median in times_ms.items():
        if median is None:
            rows.append({"length": length, "skipped": True, "reason": "x"})
            continue
        rows.append(
            {
                "length": length,
                "skipped": False,
                "median_ms": median,
                "peak_extra_mib": (memory_mib or {}).get(length, 1.0),
            }
        )
    result = {"operator": operator, "batch_size": batch_size, "lengths": rows}
    bench.add_fits(result)
    return result


# ------------------------------------------------------------ exponents


def test_add_fits_uses_measured_lengths_only():
    result = synthetic_result(
        "PolySA",
        1,
        {256: 1.0, 1024: 4.0, 4096: None},
        memory_mib={256: 10.0, 1024: 160.0},
    )
    assert result["time_exponent"] == pytest.approx(1.0)
    assert result["memory_exponent"] == pytest.approx(2.0)


# ---------------------------------------------------------------- skips


def test_skip_reason_scales_time_by_growth():
    last = (1024, 1.0, 0)
    # Linear: 4 s at 4096, quadratic: 16 s.
    assert bench.skip_reason("PolySA", 1, 4096, last, limits(5.0)) is None
    reason = bench.skip_reason("MultiHeadAttention", 1, 4096, last, limits(5.0))
    assert "predicted 16.0 s per call from N=1024" in reason
    reason = bench.skip_reason("GatedAttentionUnit", 1, 4096, last, limits(5.0))
    assert "16.0 s" in reason


def test_skip_reason_memory():
    gib = 2.0**30
    last = (1024, 1e-3, 1.0 * gib)
    reason = bench.skip_reason("Dense", 1, 4096, last, limits(30, 3.0))
    assert "predicted 4.0 GiB peak extra memory from N=1024" in reason
    assert bench.skip_reason("Dense", 1, 4096, last, limits(30, 5)) is None
    # A quadratic operator's first length: the N × N matrices alone
    # (2 float32 matrices × 4 heads × 8 examples at N = 16384: 64 GiB).
    reason = bench.skip_reason("MultiHeadAttention", 8, 16384, None, limits())
    assert "64.0 GiB" in reason and "N × N" in reason
    assert bench.skip_reason("PolySA", 8, 16384, None, limits()) is None


def test_worker_skips_lengths_after_a_predicted_slow_one(tmp_path):
    output = tmp_path / "worker.json"
    spec = json.dumps({"operator": "Dense", "batch_size": 1})
    bench.main(
        [
            "--worker",
            spec,
            "--worker-output",
            str(output),
            "--lengths",
            "32",
            "16",
            "64",
            "--width",
            "8",
            "--repeats",
            "1",
            "--max-seconds",
            "1e-9",
        ]
    )
    report = json.loads(output.read_text())
    rows = report["lengths"]
    assert [r["length"] for r in rows] == [16, 32, 64]
    assert rows[0]["skipped"] is False and rows[0]["median_ms"] > 0
    assert rows[1]["skipped"] and "from N=16" in rows[1]["reason"]
    assert rows[2]["skipped"] and rows[2]["reason"] == rows[1]["reason"]
    assert report["num_weights"] == 8 * 8 + 8


def test_failed_worker_is_recorded(tmp_path, monkeypatch):
    def crashing(args, operator, batch_size, output):
        return [sys.executable, "-c", "import sys; sys.exit('boom')"]

    monkeypatch.setattr(bench, "worker_command", crashing)
    args = bench.parse_args(
        ["--lengths", "64", "16", "--output-dir", str(tmp_path)]
    )
    result = bench.run_one(args, "PolySA", 1, keras.backend.backend())
    assert result["error"].startswith("worker exited with 1: boom")
    assert [r["length"] for r in result["lengths"]] == [16, 64]
    assert all(r["reason"] == "worker failed" for r in result["lengths"])
    assert result["time_exponent"] is None


# -------------------------------------------------------------- derived


def test_derive_ratios_and_targets():
    lengths = [256, 1024, 4096, 16384]
    dense = {n: 1e-3 * n for n in lengths}
    polysa = {n: 2.5 * t for n, t in dense.items()}
    results = [
        synthetic_result("Dense", 1, dense),
        synthetic_result("PolySA", 1, polysa),
        synthetic_result(
            "MultiHeadAttention",
            1,
            {256: 1.0, 1024: 30.0, 4096: 30.0 * polysa[4096], 16384: None},
        ),
        # Batch 8: PolySA too slow and superlinear, no MultiHeadAttention.
        synthetic_result("Dense", 8, dense),
        synthetic_result("PolySA", 8, {n: 1e-3 * n**1.5 for n in lengths}),
    ]
    derived = {(d["name"], d["batch_size"]): d for d in bench.derive(results)}
    assert len(derived) == 6

    entry = derived["polysa_over_dense_time", 1]
    assert entry["values"] == {str(n): 2.5 for n in lengths}
    assert entry["length"] == 16384 and entry["value"] == 2.5
    assert entry["target"] == "<= 3.0" and entry["pass"] is True

    entry = derived["mha_over_polysa_time", 1]
    assert set(entry["values"]) == {"256", "1024", "4096"}
    assert entry["value"] == pytest.approx(30.0)
    assert entry["target"] == ">= 25.0" and entry["pass"] is True

    entry = derived["polysa_time_exponent", 1]
    assert entry["value"] == pytest.approx(1.0) and entry["pass"] is True

    assert derived["polysa_over_dense_time", 8]["pass"] is False
    assert derived["polysa_time_exponent", 8]["value"] == pytest.approx(1.5)
    assert derived["polysa_time_exponent", 8]["pass"] is False
    # Not measured: neither pass nor fail.
    entry = derived["mha_over_polysa_time", 8]
    assert entry["value"] is None and entry["pass"] is None


def test_derive_without_target_length():
    results = [
        synthetic_result("Dense", 1, {256: 1.0, 1024: 4.0}),
        synthetic_result("PolySA", 1, {256: 2.0, 1024: 16.0}),
    ]
    derived = {d["name"]: d for d in bench.derive(results)}
    entry = derived["polysa_over_dense_time"]
    assert entry["values"] == {"256": 2.0, "1024": 4.0}
    assert entry["value"] is None and entry["pass"] is None
    assert derived["polysa_time_exponent"]["pass"] is False


def test_markdown_tables():
    results = [
        synthetic_result("PolySA", 1, {256: 2.0, 1024: None}),
        synthetic_result("Dense", 1, {256: 1.0, 1024: 4.0}),
    ]
    report = {
        "settings": {"lengths": [256, 1024]},
        "results": results,
        "derived": bench.derive(results),
    }
    table = bench.markdown_tables(report)
    assert "| PolySA | 1 | 2 | skipped | - | - |" in table
    assert "| Dense | 1 | 1 | 4 | 1 | 0 |" in table
    assert "| polysa_over_dense_time | 1 | 16384 | - | <= 3.0 | - |" in table


# ------------------------------------------------------------ a tiny run


def test_tiny_run_writes_report_and_plot(tmp_path, capfd):
    backend = keras.backend.backend()
    try:
        import matplotlib  # noqa: F401

        plot = []
    except ImportError:
        plot = ["--no-plot"]
    # The parent runs here; its worker (one operator: each worker process
    # imports the backend afresh) runs in a subprocess as usual.
    bench.main(
        [
            "--operators",
            "PolySA",
            "--batch-sizes",
            "1",
            "--lengths",
            "32",
            "16",
            "--width",
            "32",
            "--repeats",
            "1",
            "--output-dir",
            str(tmp_path),
            *plot,
        ]
    )
    stdout = capfd.readouterr().out
    path = tmp_path / f"attention_scaling_{backend}.json"
    report = json.loads(path.read_text())
    assert report["benchmark"] == "attention_scaling"
    assert report["backend"] == backend
    for key in ("keras_version", "backend_version", "platform", "cpu_count"):
        assert report[key]
    assert report["settings"]["lengths"] == [16, 32]
    assert report["settings"]["width"] == 32
    assert report["targets"] == bench.TARGETS

    assert [r["operator"] for r in report["results"]] == ["PolySA"]
    for result in report["results"]:
        assert result["batch_size"] == 1 and "error" not in result
        assert result["baseline_rss_mib"] > 0
        assert [r["length"] for r in result["lengths"]] == [16, 32]
        for row in result["lengths"]:
            assert row["skipped"] is False
            assert row["median_ms"] > 0 and row["first_call_s"] > 0
            assert len(row["runs_ms"]) == 1
            assert row["peak_extra_mib"] >= 0
        assert isinstance(result["time_exponent"], float)

    names = {(d["name"], d["batch_size"]) for d in report["derived"]}
    assert names == {
        ("polysa_over_dense_time", 1),
        ("mha_over_polysa_time", 1),
        ("polysa_time_exponent", 1),
    }
    assert "| metric | batch | N | value | target | result |" in stdout
    assert f"{backend:10s} PolySA" in stdout
    temporary = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert temporary == []
    if not plot:
        assert report["plot"] == f"attention_scaling_{backend}.png"
        png = (tmp_path / report["plot"]).read_bytes()
        assert png.startswith(b"\x89PNG")
