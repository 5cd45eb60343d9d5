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
