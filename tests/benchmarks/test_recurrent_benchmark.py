"""Tests of benchmarks/recurrent.py: analysis, skips, a tiny run."""

import argparse
import importlib.util
import json
import pathlib

import keras
import pytest

SCRIPT = (
    pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "recurrent.py"
)


def load_benchmark():
    spec = importlib.util.spec_from_file_location("recurrent", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()


def cell_result(name, median_ms):
    result = {
        "name": name,
        "kind": "keras" if name in bench.BASELINES else "hadamard_zoo",
        "family": bench.FAMILY.get(name, name),
        "num_weights": 10,
    }
    if median_ms is None:
        result.update(skipped=True, reason="failed: RuntimeError: x")
    else:
        result.update(skipped=False, median_ms=median_ms, first_call_s=0.5)
    return result


def path_result(layer, mode, times_ms):
    """A (layer, mode) report with the given median times per length."""
    rows = []
    for length, median in times_ms.items():
        if median is None:
            rows.append({"length": length, "skipped": True, "reason": "x"})
        else:
            rows.append(
                {"length": length, "skipped": False, "median_ms": median}
            )
    result = {"layer": layer, "mode": mode, "lengths": rows}
    bench.add_fit(result)
    return result


def tiny_args(**overrides):
    values = dict(
        chunk_size=4,
        width=8,
        path_batch_size=1,
        lengths=[8, 16, 32],
        repeats=1,
        max_seconds=30.0,
        seed=0,
    )
    values.update(overrides)
    return argparse.Namespace(**values)


# ------------------------------------------------------------ exponents


def test_add_fit_ignores_skipped_lengths():
    result = path_result("HGRN", "recurrent", {128: 1.0, 512: 16.0, 4096: None})
    assert result["time_exponent"] == pytest.approx(2.0)


# ---------------------------------------------------------------- skips


def test_skip_reason_predicts_linearly():
    assert bench.skip_reason(128, None, 1e-9) is None
    # 0.5 s at T = 1024 predicts 2 s at 4096.
    assert bench.skip_reason(4096, (1024, 0.5), 2.5) is None
    reason = bench.skip_reason(4096, (1024, 0.5), 1.5)
    assert reason == "predicted 2.0 s per call from T=1024 > 1.5 s"


def test_run_path_skips_lengths_after_a_predicted_slow_one():
    backend = keras.backend.backend()
    args = tiny_args(lengths=[32, 8, 16], max_seconds=1e-9, repeats=3)
    result = bench.run_path(args, backend, "HGRN", "recurrent")
    rows = result["lengths"]
    assert [r["length"] for r in rows] == [8, 16, 32]
    assert rows[0]["skipped"] is False and rows[0]["median_ms"] > 0
    # Stopped after the first call that took longer than max_seconds.
    assert len(rows[0]["runs_ms"]) == 1 and "note" in rows[0]
    assert rows[1]["skipped"] and "from T=8 > 1e-09 s" in rows[1]["reason"]
    assert rows[2]["reason"] == rows[1]["reason"]
    assert result["num_weights"] == 4 * 8 * 8 + 8
    assert result["time_exponent"] is None


def test_failures_are_recorded(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom\nmore detail")

    monkeypatch.setattr(bench, "time_calls", boom)
    backend = keras.backend.backend()
    result = bench.run_path(
        tiny_args(lengths=[8, 16]), backend, "HGRN", "chunkwise"
    )
    first, second = result["lengths"]
    assert first == {
        "length": 8,
        "skipped": True,
        "reason": "failed: RuntimeError: boom",
    }
    assert second["skipped"] and second["reason"] == "T=8 failed"

    args = argparse.Namespace(
        cells=["IndRNNCell"],
        batch_size=2,
        time_steps=3,
        input_dim=4,
        units=4,
        repeats=1,
        max_seconds=30.0,
        seed=0,
    )
    results = bench.run_cells(args, backend)
    assert [r["name"] for r in results] == ["IndRNNCell", "LSTM", "GRU"]
    assert all(r["reason"] == "failed: RuntimeError: boom" for r in results)
    assert results[0]["num_weights"] == 4 * 4 + 4 + 4


def test_parse_args_rejects_bad_sizes():
    with pytest.raises(SystemExit):
        bench.parse_args(["--repeats", "0"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--lengths", "128", "0"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--cells", "SimpleRNNCell"])
    args = bench.parse_args([])
    assert args.lengths == [128, 256, 512, 1024, 2048, 4096]
    assert (args.batch_size, args.time_steps) == (20, 20)
    assert (args.input_dim, args.units, args.width) == (200, 200, 128)


# ---------------------------------------------------------------- ratios


def test_cell_ratios():
    results = [
        cell_result("LSTMCell", 30.0),
        cell_result("GRUCell", 12.0),
        cell_result("RHNCell", None),
        cell_result("LSTM", 20.0),
        cell_result("GRU", 8.0),
    ]
    entries = {e["cell"]: e for e in bench.cell_ratios(results)}
    assert set(entries) == {"LSTMCell", "GRUCell", "RHNCell"}
    lstm = entries["LSTMCell"]
    assert (lstm["over_lstm"], lstm["over_gru"]) == (1.5, 3.75)
    assert lstm["family"] == "LSTM" and lstm["family_ratio"] == 1.5
    gru = entries["GRUCell"]
    assert (gru["over_lstm"], gru["over_gru"]) == (0.6, 1.5)
    assert gru["family"] == "GRU" and gru["family_ratio"] == 1.5
    failed = entries["RHNCell"]
    assert failed["family"] == "GRU"
    assert failed["over_lstm"] is None and failed["family_ratio"] is None


def test_cell_ratios_without_a_baseline():
    results = [cell_result("MGUCell", 5.0), cell_result("LSTM", 10.0)]
    (entry,) = bench.cell_ratios(results)
    assert entry["over_lstm"] == 0.5
    assert entry["over_gru"] is None and entry["family_ratio"] is None


def test_path_ratios_and_target():
    lengths = [128, 1024, 4096]
    results = [
        # The recurrent path loses from T = 1024 on: passes.
        path_result("HGRN", "recurrent", {n: 0.01 * n for n in lengths}),
        path_result("HGRN", "chunkwise", {128: 2.56, 1024: 5.12, 4096: 20.48}),
        # Still faster step by step at 4096: fails.
        path_result("GLA", "recurrent", {n: 1.0 for n in lengths}),
        path_result("GLA", "chunkwise", {n: 2.0 for n in lengths}),
        # Recurrent skipped at 4096: not judged.
        path_result("MLSTM", "recurrent", {128: 1.0, 1024: 8.0, 4096: None}),
        path_result("MLSTM", "chunkwise", {n: 1.0 for n in lengths}),
    ]
    entries = {e["layer"]: e for e in bench.path_ratios(results)}
    assert list(entries) == ["HGRN", "GLA", "MLSTM"]
    hgrn = entries["HGRN"]
    assert hgrn["values"] == {"128": 0.5, "1024": 2.0, "4096": 2.0}
    assert hgrn["length"] == 4096 and hgrn["value"] == 2.0
    assert hgrn["target"] == "> 1.0" and hgrn["pass"] is True
    assert entries["GLA"]["value"] == 0.5 and entries["GLA"]["pass"] is False
    mlstm = entries["MLSTM"]
    assert mlstm["values"] == {"128": 1.0, "1024": 8.0}
    assert mlstm["value"] is None and mlstm["pass"] is None


def test_path_ratio_of_exactly_one_fails():
    results = [
        path_result("HGRN", "recurrent", {4096: 3.0}),
        path_result("HGRN", "chunkwise", {4096: 3.0}),
    ]
    (entry,) = bench.path_ratios(results)
    assert entry["value"] == 1.0 and entry["pass"] is False


def test_markdown_tables():
    cells = [
        cell_result("LSTMCell", 30.0),
        cell_result("RHNCell", None),
        cell_result("LSTM", 20.0),
        cell_result("GRU", 8.0),
    ]
    paths = [
        path_result("HGRN", "recurrent", {128: 1.0, 4096: 32.0}),
        path_result("HGRN", "chunkwise", {128: 2.0, 4096: 16.0}),
    ]
    paths[1]["lengths"][0]["compiler"] = "graph (XLA failed: x)"
    report = {
        "settings": {
            "cells": {
                "batch_size": 20,
                "time_steps": 20,
                "input_dim": 200,
                "units": 200,
            },
            "paths": {
                "lengths": [4096, 128],
                "width": 128,
                "batch_size": 1,
                "chunk_size": 64,
            },
        },
        "cells": cells,
        "cell_ratios": bench.cell_ratios(cells),
        "paths": paths,
        "path_ratios": bench.path_ratios(paths),
    }
    table = bench.markdown_tables(report)
    assert "| LSTMCell | 10 | 30 | 0.5 | 1.5 | 3.75 | 1.5 (LSTM) |" in table
    assert "| RHNCell | 10 | failed | - | - | - | - (GRU) |" in table
    assert "| LSTM | 10 | 20 | 0.5 | - | - | - |" in table
    assert "| HGRN | recurrent | 1 | 32 | 1 |" in table
    assert "| HGRN | chunkwise | 2† | 16 | 0.6 |" in table
    assert "| HGRN | 0.5 | 2 | > 1.0 at T=4096 | pass |" in table
    assert "† TensorFlow graph mode" in table

    report.update(cells=[], cell_ratios=[])
    table = bench.markdown_tables(report)
    assert "LSTM" not in table and table.startswith("Paths: width 128")


# ------------------------------------------------------------ a tiny run


def test_tiny_run_writes_report(tmp_path, capfd):
    backend = keras.backend.backend()
    try:
        import matplotlib  # noqa: F401

        plot = []
    except ImportError:
        plot = ["--no-plot"]
    bench.main(
        [
            "--cells",
            "LSTMCell",
            "GRUCell",
            "--batch-size",
            "2",
            "--time-steps",
            "3",
            "--input-dim",
            "4",
            "--units",
            "4",
            "--layers",
            "HGRN",
            "--lengths",
            "16",
            "8",
            "--width",
            "8",
            "--chunk-size",
            "4",
            "--repeats",
            "1",
            "--output-dir",
            str(tmp_path),
            *plot,
        ]
    )
    stdout = capfd.readouterr().out
    stem = tmp_path / f"recurrent_{backend}"
    report = json.loads(stem.with_suffix(".json").read_text())
    assert report["benchmark"] == "recurrent" and report["backend"] == backend
    for key in ("keras_version", "backend_version", "platform", "cpu_count"):
        assert report[key]
    assert report["targets"] == bench.TARGETS
    assert report["settings"]["paths"]["lengths"] == [8, 16]

    cells = {r["name"]: r for r in report["cells"]}
    assert list(cells) == ["LSTMCell", "GRUCell", "LSTM", "GRU"]
    for result in cells.values():
        assert result["skipped"] is False, result.get("reason")
        assert result["median_ms"] > 0 and result["first_call_s"] > 0
        assert len(result["runs_ms"]) == 1
    # Same sizes: the cells have the Keras layers' weights.
    assert cells["LSTMCell"]["num_weights"] == cells["LSTM"]["num_weights"]
    assert cells["LSTM"]["num_weights"] == 4 * (4 * 4 + 4 * 4 + 4)
    assert cells["GRUCell"]["num_weights"] == cells["GRU"]["num_weights"]
    ratios = {e["cell"]: e for e in report["cell_ratios"]}
    assert ratios["LSTMCell"]["family"] == "LSTM"
    assert ratios["GRUCell"]["family_ratio"] == pytest.approx(
        cells["GRUCell"]["median_ms"] / cells["GRU"]["median_ms"], rel=1e-2
    )

    assert [(r["layer"], r["mode"]) for r in report["paths"]] == [
        ("HGRN", "recurrent"),
        ("HGRN", "chunkwise"),
    ]
    for result in report["paths"]:
        assert [r["length"] for r in result["lengths"]] == [8, 16]
        for row in result["lengths"]:
            assert row["skipped"] is False, row.get("reason")
            assert row["median_ms"] > 0
        assert isinstance(result["time_exponent"], float)
    (entry,) = report["path_ratios"]
    assert set(entry["values"]) == {"8", "16"} and entry["pass"] is None

    markdown = stem.with_suffix(".md").read_text()
    assert "| LSTMCell | 144 |" in markdown
    assert "| HGRN | recurrent |" in markdown
    assert markdown in stdout
    assert f"{backend:10s} LSTMCell" in stdout
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    if not plot:
        assert report["plot"] == f"recurrent_{backend}.png"
        assert stem.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
