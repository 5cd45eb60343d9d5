"""Tests of benchmarks/rnn_lm_training.py."""

import importlib.util
import json
import pathlib

import keras

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
spec = importlib.util.spec_from_file_location(
    "rnn_lm_training", BENCHMARKS / "rnn_lm_training.py"
)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_markdown_sorts_by_recipe_then_speed():
    rows = [
        {
            "recipe": "b",
            "backend": "x",
            "ms_per_step": 2.0,
            "minutes_per_epoch": 1.0,
        },
        {
            "recipe": "a",
            "backend": "y",
            "ms_per_step": 9.0,
            "minutes_per_epoch": 3.0,
        },
        {
            "recipe": "a",
            "backend": "z",
            "ms_per_step": 1.5,
            "minutes_per_epoch": 0.5,
        },
    ]
    lines = bench.markdown(rows).splitlines()
    assert [line.split(" | ")[1] for line in lines[2:]] == ["z", "y", "x"]
    assert lines[2] == "| a | z | 1.5 | 0.5 |"


def test_tiny_run_writes_results(tmp_path, capsys):
    bench.main(
        [
            "--backends",
            keras.backend.backend(),
            "--recipes",
            "mgu_ptb_small",
            "--steps",
            "2",
            "--warm-up",
            "1",
            "--output-dir",
            str(tmp_path),
        ]
    )
    report = json.loads((tmp_path / "rnn_lm_training.json").read_text())
    [row] = report["rows"]
    assert row["backend"] == keras.backend.backend()
    assert row["windows_per_epoch"] == 2323  # 929589 // 20 = 46479 a row
    assert row["ms_per_step"] > 0
    assert "mgu_ptb_small" in (tmp_path / "rnn_lm_training.md").read_text()
