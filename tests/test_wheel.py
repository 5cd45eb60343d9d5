"""A wheel built from the repository loads bundled presets by name, offline.

The wheel is installed (not editable) into a fresh virtual environment whose
only other packages are this environment's dependencies (made visible with
a `.pth` file, so nothing is downloaded), and run from outside the
repository so that the source tree cannot be imported by accident.
"""

import pathlib
import subprocess
import sys
import sysconfig

import pytest
from subprocess_utils import run_python

REPO = pathlib.Path(__file__).resolve().parents[1]


def _run(*args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.large
def test_installed_wheel_loads_bundled_presets_offline(tmp_path):
    bundled = [p.name for p in (REPO / "presets").iterdir() if p.is_dir()]
    assert bundled, "no bundled preset to test"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        str(tmp_path / "dist"),
        str(REPO),
    )
    (wheel,) = (tmp_path / "dist").glob("hadamard_zoo-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    site = _run(
        str(python),
        "-c",
        "import sysconfig; print(sysconfig.get_path('purelib'))",
    ).strip()
    # Dependencies come from this environment; hadamard_zoo only from the
    # wheel (the editable install's finder is a .pth file and is not
    # processed for a directory added this way).
    deps = sysconfig.get_path("purelib")
    pathlib.Path(site, "deps.pth").write_text(deps + "\n")
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "install",
        "--no-deps",
        "--no-index",
        str(wheel),
    )
    code = f"""
        import pathlib
        import hadamard_zoo
        from hadamard_zoo import demo, generation, presets, samples
        assert pathlib.Path(hadamard_zoo.__file__).is_relative_to({site!r})
        assert pathlib.Path(presets.presets_root()).is_relative_to({site!r})
        names = [p["name"] for p in hadamard_zoo.list_presets()]
        assert sorted(names) == sorted({bundled!r}), names
        for name in names:
            metrics = presets.preset_info(name)["metrics"]
            if metrics["metric"] == "fid":  # a generator, and its samples
                path = pathlib.Path(presets.preset_info(name)["path"])
                assert (path / "samples.png").is_file(), name
                generator = hadamard_zoo.load_generator(name)
                maps = None
                if hasattr(generator, "segmap_from_labels"):
                    maps = generation.sample_label_maps(
                        metrics["dataset"], generator.resolution
                    )
                images = generation.sample_images(
                    generator, 8, label_maps=maps
                )
                print(name, images.shape)
                continue
            model = hadamard_zoo.load_classifier(name)
            if metrics["metric"] == "perplexity":  # a language model
                sentence = "the company said it expects a loss"
                perplexity = model.perplexity([sentence] * 8)
                assert all(p > 1 for p in perplexity), perplexity
                print(name, (len(perplexity), "perplexities"))
                continue
            inputs, labels = samples.load_samples(metrics["dataset"])
            print(name, demo.predict_samples(model, inputs).shape)
    """
    out = run_python(
        code,
        "jax",
        python=str(python),
        cwd=tmp_path,
        env={"HF_HUB_OFFLINE": "1", "KAGGLE_OFFLINE": "1"},
    )
    for name in bundled:
        assert f"{name} (8, " in out
