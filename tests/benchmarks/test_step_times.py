"""Tests of benchmarks/step_times.py and benchmarks/gpu_check.sh on CPU."""

import importlib.util
import json
import math
import pathlib
import re
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "step_times.py"
GPU_CHECK = REPO / "benchmarks" / "gpu_check.sh"
POLICIES = ["float32", "mixed_bfloat16"]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("step_times", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()


# ---------------------------------------------------------- a small run


# Compiles 4 training steps (~30 s): in the large lane, with the rehearsal.
@pytest.mark.large
def test_two_presets_report(tmp_path, capfd):
    backend = keras.backend.backend()
    presets = ["pinet_ccp_mnist", "rotate_countries_s1"]
    bench.main(
        [
            "--presets",
            *presets,
            "--repeats",
            "2",
            "--batch-size",
            "4",
            "--output-dir",
            str(tmp_path),
        ]
    )
    stdout = capfd.readouterr().out
    stem = tmp_path / f"step_times_{backend}"
    report = json.loads(stem.with_suffix(".json").read_text())
    assert report["benchmark"] == "step_times"
    assert report["backend"] == backend and report["device"]
    assert report["settings"]["policies"] == POLICIES

    rows = report["rows"]
    assert [(r["preset"], r["policy"]) for r in rows] == [
        (name, policy) for name in presets for policy in POLICIES
    ]
    kinds = {"pinet_ccp_mnist": "image_classifier"}
    kinds["rotate_countries_s1"] = "link_predictor"
    for row in rows:
        assert "error" not in row, row["error"]
        assert (
            row["kind"] == kinds[row["preset"]] and row["kind"] in bench.KINDS
        )
        assert row["step"] == "train" and "train_on_batch" in row["step_detail"]
        # The model really was built in the row's policy.
        assert row["dtype_policy"] == row["policy"]
        assert row["jit_compile"] is (backend != "torch")
        assert row["jit_compile_requested"] == bench.JIT_COMPILE[backend]
        assert row["backend"] == backend and row["device"] == report["device"]
        assert row["batch_size"] == 4 and row["params"] > 0
        assert len(row["runs_ms"]) == 2
        for value in (row["first_call_s"], row["median_ms"], *row["runs_ms"]):
            assert math.isfinite(value) and value > 0
        assert min(row["runs_ms"]) == row["min_ms"] <= row["median_ms"]
        assert isinstance(row["loss"], float) and math.isfinite(row["loss"])
        assert row["logs"]["loss"] == row["loss"]
    # RotatE's Countries recipe: 64 negatives per sample triple.
    assert rows[2]["inputs"] == "8 countries_s1 samples, 64 negatives each"
    # The preset is trained: its sample images are classified well.
    assert rows[0]["loss"] < 0.5

    markdown = stem.with_suffix(".md").read_text()
    jit = backend != "torch"
    assert (
        f"| pinet_ccp_mnist | image_classifier | float32 | train | {jit} |"
        in markdown
    )
    assert (
        f"| rotate_countries_s1 | link_predictor | mixed_bfloat16 | train "
        f"| {jit} |" in markdown
    )
    assert markdown.startswith(f"Step times, {backend} on ")
    assert markdown in stdout
    assert f"{backend:10s} pinet_ccp_mnist" in stdout
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_failures_become_rows(tmp_path, capfd, monkeypatch):
    def boom(name, *args, **kwargs):
        # Keras wraps errors raised inside a layer's call like this.
        raise ValueError(
            "Exception encountered when calling X.call().\n\n"
            "\x1b[1mthe real cause | here\x1b[0m\n\nArguments received: ..."
        )

    monkeypatch.setattr(bench, "load_task", boom)
    report = bench.main(
        ["--presets", "pinet_ccp_mnist", "--output-dir", str(tmp_path)]
    )
    rows = report["rows"]
    assert [r["policy"] for r in rows] == POLICIES
    for row in rows:
        assert row["error"].startswith("ValueError: Exception encountered")
        assert "\x1b" not in row["error"] and "first_call_s" not in row
    stdout = capfd.readouterr().out
    assert "failed: ValueError: the real cause | here" in stdout
    markdown = (tmp_path / f"step_times_{report['backend']}.md").read_text()
    assert "| ValueError: the real cause / here |" in markdown


# ------------------------------------------------------------ arguments


def test_unknown_preset_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(["--presets", "pinet_ccp_mnist", "pinet_ccp_mnst"])
    error = capsys.readouterr().err
    assert "Unknown preset 'pinet_ccp_mnst'." in error
    assert "Did you mean 'pinet_ccp_mnist'" in error


def test_parse_args_defaults_and_bad_values(tmp_path):
    from hadamard_zoo import presets

    args = bench.parse_args([])
    assert args.presets == presets.preset_names()
    assert args.policies == POLICIES
    assert (args.batch_size, args.repeats) == (32, 5)
    assert args.output_dir == REPO / "benchmarks" / "results"
    for bad in (["--repeats", "0"], ["--batch-size", "0"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)
    with pytest.raises(SystemExit):
        bench.parse_args(["--policies", "mixed_float16"])
    with pytest.raises(SystemExit):  # a directory that holds no preset
        bench.parse_args(["--presets", str(tmp_path)])


def test_preset_kinds():
    from hadamard_zoo import presets

    kinds = {
        n: bench.preset_kind(bench.preset_metrics(n))
        for n in presets.preset_names()
    }
    expected = {
        "gru_ptb_small": "language_model",
        "lstm_ptb_small": "language_model",
        "pinet_ccp_mnist": "image_classifier",
        "monet_tiny_fashion_mnist": "image_classifier",
        "polysa_transformer_sst2": "text_classifier",
        "rotate_wn18rr": "link_predictor",
        "rotate_countries_s3": "link_predictor",
    }
    assert {n: kinds[n] for n in expected} == expected
    assert bench.preset_kind({"metric": "fid", "dataset": "mnist"}) == (
        "generator"
    )


# ---------------------------------------------------- batches, untimed


def test_language_model_batch_is_full_windows():
    import hadamard_zoo

    metrics = bench.preset_metrics("lstm_ptb_small")
    model = hadamard_zoo.load_classifier("lstm_ptb_small")
    (x, y, weights), source = bench.language_model_batch(model, metrics, 3)
    assert source == "ptb test stream"
    assert x["token_ids"].shape == y.shape == (3, 64)
    # Every position is a word of the stream: no padding to train on.
    assert np.all(x["padding_mask"]) and np.all(weights)
    assert np.array_equal(x["token_ids"][:, 1:], y[:, :-1])


def test_no_weights_builds_the_preset_from_its_config():
    import hadamard_zoo

    name = "pinet_ccp_mnist"
    metrics = bench.preset_metrics(name)
    model, *_ = bench.load_task(name, metrics, "float32", 2, False, False)
    trained = hadamard_zoo.load_classifier(name)
    ours, theirs = model.get_weights(), trained.get_weights()
    assert [w.shape for w in ours] == [w.shape for w in theirs]
    assert not all(
        np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True)
    )


def test_every_row_is_saved_as_it_is_measured(monkeypatch):
    rows = iter(
        {"preset": name, "policy": "float32", "backend": "jax", "error": "-"}
        for name in ("a", "b")
    )
    monkeypatch.setattr(bench, "time_row", lambda *args: next(rows))
    args = bench.parse_args(
        ["--presets", "pinet_ccp_mnist", "--no-weights", "--repeats", "1"]
    )
    saved = []
    report = bench.run(args, save=lambda r: saved.append(len(r["rows"])))
    assert saved == [1, 2] and len(report["rows"]) == 2
    assert report["settings"]["weights"] == "initial"


def test_generator_presets_train_in_a_gan_trainer(tmp_path):
    from hadamard_zoo.models.stylegan import DCGANGenerator
    from hadamard_zoo.training.recipes import ImageGenerationRecipe

    # No generator preset is bundled yet: a tiny one in a directory.
    recipe = ImageGenerationRecipe(
        name="tiny_dcgan_mnist",
        description="tiny",
        dataset="mnist",
        generator="dcgan",
        generator_kwargs=dict(base_filters=2, max_filters=4),
        discriminator="dcgan",
        discriminator_kwargs=dict(base_filters=2, max_filters=4),
        steps=1,
        steps_per_epoch=1,
        latent_dim=4,
    )
    generator = DCGANGenerator(
        latent_dim=4, resolution=32, base_filters=2, max_filters=4
    )
    preset = tmp_path / "tiny_dcgan_mnist"
    generator.save_to_preset(str(preset))
    metrics = {"metric": "fid", "dataset": "mnist", "recipe": recipe.to_dict()}
    (preset / "metrics.json").write_text(json.dumps(metrics))

    assert bench.preset_metrics(str(preset)) == json.loads(json.dumps(metrics))
    trainer, batch, inputs, detail = bench.load_task(
        str(preset), metrics, "mixed_bfloat16", 2, True
    )
    assert detail.startswith("GANTrainer.train_on_batch")
    assert inputs == "8 mnist samples"
    assert bench.model_policy(trainer) == "mixed_bfloat16"
    assert trainer.discriminator.dtype_policy.name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"  # restored
    for ours, saved in zip(
        trainer.generator.get_weights(), generator.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(ours, saved)
    (images,) = batch
    assert images.shape == (2, 32, 32, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0


# ------------------------------------------------------------ gpu_check


def run_gpu_check(tmp_path, *args):
    # An empty PATH: no nvidia-smi, whatever the machine, and nothing else
    # (python, pytest) could run either.
    empty = tmp_path / "bin"
    empty.mkdir()
    return subprocess.run(
        [shutil.which("bash"), str(GPU_CHECK), *args],
        capture_output=True,
        text=True,
        env={"PATH": str(empty)},
        timeout=60,
    )


def test_gpu_check_without_a_gpu_runs_nothing(tmp_path):
    results = tmp_path / "results"
    result = run_gpu_check(tmp_path, "--results", str(results))
    assert result.returncode == 0, result.stderr
    assert "no GPU found" in result.stdout
    assert "--force-cpu" in result.stdout and result.stderr == ""
    assert not results.exists()


def test_gpu_check_rejects_unknown_arguments(tmp_path):
    result = run_gpu_check(tmp_path, "--gpus", "2")
    assert result.returncode == 2
    assert "unknown argument '--gpus'" in result.stderr


def rehearse(*args):
    """`gpu_check.sh --force-cpu ARGS` with this interpreter (a checkout
    tested with HADAMARD_ZOO_VENV elsewhere has no .venv of its own)."""
    result = subprocess.run(
        ["bash", str(GPU_CHECK), "--force-cpu", "--python", sys.executable]
        + list(args),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.large
def test_gpu_check_rehearsal_on_cpu(tmp_path):
    """`--force-cpu` on this backend: a summary that counts a failure."""
    backend = keras.backend.backend()
    tests = tmp_path / "test_fake.py"
    tests.write_text(
        "def test_passes():\n    pass\ndef test_fails():\n    1 / 0\n"
    )
    results = tmp_path / "results"
    rehearse(
        "--backends",
        backend,
        "--results",
        str(results),
        "--pytest-args",
        str(tests),
        "--step-args",
        "--presets pinet_ccp_mnist --policies float32 --repeats 1",
    )
    (summary,) = results.glob("gpu_check_*.md")
    text = summary.read_text()
    assert "Device: CPU (--force-cpu rehearsal)." in text
    stem = f"step_times_{backend}"
    assert (
        f"| {backend} | 2 | 1 | 1 | 0 | 0 | 1 | [{stem}.md]({stem}.md), "
        f"[json]({stem}.json) (exit 0) |" in text
    )
    # junit's classname is the module's dotted path from pytest's rootdir,
    # which depends on where tmp_path lies relative to the checkout.
    assert re.search(
        rf"^- {backend}, failed: (\S+\.)?test_fake::test_fails$", text, re.M
    ), text
    report = json.loads((results / f"{stem}.json").read_text())
    assert report["device"].lower().startswith("cpu")
    assert [r.get("error") for r in report["rows"]] == [None]
    assert (results / f"junit_{backend}.xml").is_file()
    assert (
        "=== " + backend in (results / f"gpu_check_{backend}.log").read_text()
    )


@pytest.mark.large
def test_gpu_check_time_limit_keeps_what_ran(tmp_path):
    """Both backends at once; the slow test is stopped, the rest counted."""
    tests = tmp_path / "test_fake.py"
    tests.write_text(
        "import time\n"
        "def test_passes():\n    pass\n"
        "def test_slow():\n    time.sleep(120)\n"
    )
    results = tmp_path / "results"
    rehearse(
        "--backends",
        "jax torch",
        "--stages",
        "tests",
        "--concurrent",
        "--time-limit",
        "20",
        "--results",
        str(results),
        "--pytest-args",
        str(tests),
    )
    (summary,) = results.glob("gpu_check_*.md")
    text = summary.read_text()
    for backend in ("jax", "torch"):
        assert f"| {backend} | 2 | 1 | 0 | 0 | 0 | 124 | not run |" in text
    assert "124 means stopped by `--time-limit`" in text
