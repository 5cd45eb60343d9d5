"""The `hadamard-zoo` command line, run in-process."""

import json

import numpy as np
import pytest

from hadamard_zoo import cli
from hadamard_zoo import samples


def test_list_and_info(tiny_presets, capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "pinet_ccp_mnist" in out and "accuracy" in out
    assert cli.main(["list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == "pinet_ccp_mnist"
    assert cli.main(["info", "pinet_ccp_mnist"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["metrics"]["command"].startswith("KERAS_BACKEND=")
    assert info["size_bytes"] > 0


def test_unknown_name_exits_2_with_suggestions(tiny_presets, capsys):
    assert cli.main(["info", "pinet_ccp_mnst"]) == 2
    assert "Did you mean 'pinet_ccp_mnist'" in capsys.readouterr().err


def test_predict_png_and_npy(tiny_presets, tmp_path, capsys):
    from PIL import Image

    images, labels = samples.load_samples("mnist")
    png = tmp_path / "digit.png"
    Image.fromarray(images[0]).save(png)
    rgb = tmp_path / "digit_rgb.jpg"
    Image.fromarray(np.repeat(images[1][..., None], 3, -1)).save(rgb)
    npy = tmp_path / "digit.npy"
    np.save(npy, images[2])
    argv = ["predict", "pinet_ccp_mnist", str(png), str(rgb), str(npy)]
    assert cli.main([*argv, "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for line in lines:
        assert line.count("(") == 2  # two classes with probabilities


def test_predict_rejects_unreadable_files(tiny_presets, tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    assert cli.main(["predict", "pinet_ccp_mnist", str(text)]) == 2
    assert "expected one of" in capsys.readouterr().err
    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((2, 2, 2, 2)))
    assert cli.main(["predict", "pinet_ccp_mnist", str(cube)]) == 2
    assert "shape" in capsys.readouterr().err


def test_demo_runs_every_preset_on_the_samples(tiny_presets, capsys):
    assert cli.main(["demo", "--skip-fit"]) == 0
    out = capsys.readouterr().out
    assert "pinet_ccp_mnist:" in out and "correct" in out


def test_train_reports_unknown_recipes(capsys):
    assert cli.main(["train", "pinet_nothing_mnist"]) == 2
    assert "Unknown recipe" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["predict", "--help"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0


def test_predict_continues_prompts_with_a_language_model(tmp_path, capsys):
    from hadamard_zoo.models.rnn_lm import RNNLMBackbone
    from hadamard_zoo.models.rnn_lm import RNNLMCausalLM
    from hadamard_zoo.models.rnn_lm import RNNLMCausalLMPreprocessor
    from hadamard_zoo.models.rnn_lm import RNNLMTokenizer

    words = ["<unk>", "<eos>", "the", "cat", "sat", "on", "mat"]
    tokenizer = RNNLMTokenizer(words)
    model = RNNLMCausalLM(
        RNNLMBackbone(vocabulary_size=len(words), hidden_dim=4),
        preprocessor=RNNLMCausalLMPreprocessor(tokenizer, sequence_length=8),
    )
    model.save_to_preset(str(tmp_path / "lm"))
    argv = ["predict", str(tmp_path / "lm"), "the cat", "on the mat"]
    assert cli.main([*argv, "--max-length", "6", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("'the cat' (perplexity ")
    # The continuation starts with the prompt, at most 6 tokens in all.
    continuation = lines[1].split("): ", 1)[1].split()
    assert continuation[:3] == ["on", "the", "mat"]
    assert len(continuation) <= 6
    assert cli.main([*argv, "--max-length", "6", "--seed", "3"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == lines  # seeded
    assert cli.main(["predict", str(tmp_path / "lm")]) == 2
    assert "prompt" in capsys.readouterr().err


@pytest.fixture(scope="module")
def generator_presets(tmp_path_factory):
    """Untrained tiny StyleGAN, DCGAN and SPADE generators as presets."""
    from hadamard_zoo.models.spade import SPADEGenerator
    from hadamard_zoo.models.stylegan import DCGANGenerator
    from hadamard_zoo.models.stylegan import StyleGANGenerator

    root = tmp_path_factory.mktemp("generators")
    small = dict(base_filters=4, max_filters=8)
    models = {
        "stylegan": StyleGANGenerator(
            latent_dim=4, w_dim=4, mapping_layers=1, **small
        ),
        "dcgan": DCGANGenerator(latent_dim=4, **small),
        "spade": SPADEGenerator(
            num_classes=11, latent_dim=4, hidden_filters=4, **small
        ),
    }
    for name, model in models.items():
        model.save_to_preset(str(root / name))
    (root / "spade" / "metrics.json").write_text(
        json.dumps({"dataset": "fashion_mnist", "metric": "fid"})
    )
    return root


def _grid(path):
    from PIL import Image

    with Image.open(path) as picture:
        return picture.size, np.asarray(picture)


def test_generate_writes_a_seeded_grid(generator_presets, tmp_path, capsys):
    preset = str(generator_presets / "stylegan")
    argv = ["generate", preset, "--num", "6", "--columns", "3"]
    for seed, name in ((1, "a.png"), (1, "b.png"), (2, "c.png")):
        out = str(tmp_path / name)
        assert cli.main([*argv, "--seed", str(seed), "--out", out]) == 0
    assert "6 images" in capsys.readouterr().out
    size, first = _grid(tmp_path / "a.png")
    assert size == (3 * 33 + 1, 2 * 33 + 1)
    np.testing.assert_array_equal(_grid(tmp_path / "b.png")[1], first)
    assert not np.array_equal(_grid(tmp_path / "c.png")[1], first)
    out = str(tmp_path / "truncated.png")
    assert cli.main([*argv, "--truncation", "0.7", "--out", out]) == 0
    assert _grid(out)[0] == size
    out = str(tmp_path / "dcgan.png")
    assert (
        cli.main(
            [
                "generate",
                str(generator_presets / "dcgan"),
                "--num",
                "4",
                "--out",
                out,
            ]
        )
        == 0
    )
    assert _grid(out)[0] == (2 * 33 + 1, 2 * 33 + 1)


def test_generate_spade_from_bundled_or_given_label_maps(
    generator_presets, tmp_path
):
    from PIL import Image

    preset = str(generator_presets / "spade")
    out = str(tmp_path / "bundled.png")
    assert cli.main(["generate", preset, "--num", "8", "--out", out]) == 0
    assert _grid(out)[0] == (3 * 33 + 1, 3 * 33 + 1)

    labels = np.zeros((32, 32), "uint8")
    labels[6:26, 10:22] = 4  # a "dress" (class 3) silhouette
    png = tmp_path / "labels.png"
    Image.fromarray(labels).save(png)
    npy = tmp_path / "labels.npy"
    np.save(npy, np.stack([labels, labels[::-1]]).astype("int64"))
    for path in (png, npy):
        out = str(tmp_path / f"{path.suffix[1:]}.png")
        argv = ["generate", preset, "--labels", str(path), "--num", "2"]
        assert cli.main([*argv, "--out", out]) == 0
        assert _grid(out)[0] == (2 * 33 + 1, 33 + 1)


def test_generate_rejects_bad_arguments(generator_presets, tmp_path, capsys):
    from PIL import Image

    stylegan = str(generator_presets / "stylegan")
    spade = str(generator_presets / "spade")
    out = str(tmp_path / "grid.png")
    wrong_size = tmp_path / "small.npy"
    np.save(wrong_size, np.zeros((28, 28), "int64"))
    unknown_id = tmp_path / "unknown.npy"
    np.save(unknown_id, np.full((32, 32), 11, "int64"))
    rgb = tmp_path / "rgb.png"
    Image.fromarray(np.zeros((32, 32, 3), "uint8")).save(rgb)
    floats = tmp_path / "floats.npy"
    np.save(floats, np.zeros((32, 32), "float32"))
    cases = [
        (["generate", stylegan, "--num", "0"], "--num must be at least 1"),
        (["generate", "no_such_generator"], "Unknown preset"),
        (["generate", str(tmp_path / "missing")], "no such directory"),
        (["generate", stylegan, "--truncation", "1.5"], "--truncation"),
        (["generate", stylegan, "--out", "grid.jpg"], ".png"),
        (["generate", stylegan, "--seed", "-1"], "--seed"),
        (
            [
                "generate",
                str(generator_presets / "dcgan"),
                "--truncation",
                "0.5",
            ],
            "StyleGAN generators only",
        ),
        (["generate", stylegan, "--labels", str(wrong_size)], "SPADE presets"),
        (["generate", spade, "--labels", str(wrong_size)], "shape"),
        (["generate", spade, "--labels", str(unknown_id)], "unknown ids [11]"),
        (["generate", spade, "--labels", str(rgb)], "one channel"),
        (["generate", spade, "--labels", str(floats)], "integer class ids"),
        (["generate", spade, "--labels", "labels.txt"], ".npy"),
    ]
    for argv, message in cases:
        assert (
            cli.main([*argv, "--out", out] if "--out" not in argv else argv)
            == 2
        ), argv
        error = capsys.readouterr().err
        assert error.startswith("hadamard-zoo: error:"), argv
        assert message in error, (argv, error)
    assert not (tmp_path / "grid.png").exists()


def test_generate_refuses_a_classifier_preset(tiny_presets, capsys):
    assert cli.main(["generate", "pinet_ccp_mnist"]) == 2
    assert "not an image generator" in capsys.readouterr().err


def test_train_rejects_a_negative_seed_before_any_work(tmp_path, capsys):
    out = tmp_path / "preset"
    argv = ["train", "pinet_ccp_mnist", "--seed", "-1", "--output", str(out)]
    assert cli.main(argv) == 2
    assert "`seed` must be an integer >= 0" in capsys.readouterr().err
    assert not out.exists()


def test_demo_draws_grids_and_continues_sentences(
    generator_presets, tmp_path, monkeypatch, capsys
):
    import shutil

    from hadamard_zoo import presets
    from hadamard_zoo.models.rnn_lm import RNNLMBackbone
    from hadamard_zoo.models.rnn_lm import RNNLMCausalLM
    from hadamard_zoo.models.rnn_lm import RNNLMCausalLMPreprocessor
    from hadamard_zoo.models.rnn_lm import RNNLMTokenizer

    root = tmp_path / "presets"
    for name in ("stylegan", "spade"):
        shutil.copytree(generator_presets / name, root / f"{name}_fashion")
        metrics = {"dataset": "fashion_mnist", "metric": "fid", "value": 9.5}
        (root / f"{name}_fashion" / "metrics.json").write_text(
            json.dumps(metrics)
        )
    words = ["<unk>", "<eos>", "the", "company", "said", "it", "a", "loss"]
    RNNLMCausalLM(
        RNNLMBackbone(vocabulary_size=len(words), hidden_dim=4),
        preprocessor=RNNLMCausalLMPreprocessor(
            RNNLMTokenizer(words), sequence_length=8
        ),
    ).save_to_preset(str(root / "lm_ptb"))
    (root / "lm_ptb" / "metrics.json").write_text(
        json.dumps({"dataset": "ptb", "metric": "perplexity", "value": 7.0})
    )
    monkeypatch.setattr(presets, "presets_root", lambda: root)
    presets._bundled.cache_clear()
    try:
        grids = tmp_path / "grids"
        argv = ["demo", "--skip-fit", "--grid-dir", str(grids)]
        assert cli.main(argv) == 0
    finally:
        presets._bundled.cache_clear()
    out = capsys.readouterr().out
    for name in ("stylegan_fashion", "spade_fashion"):
        assert f"{name}: 16 generated images (FID 9.50) ->" in out
        size, pixels = _grid(grids / f"{name}.png")
        assert size == (8 * 33 + 1, 2 * 33 + 1)  # 8 x 2 images of 32x32
        assert pixels.std() > 0
    assert "lm_ptb: perplexity " in out
    assert "'the company said' -> 'the company said" in out
