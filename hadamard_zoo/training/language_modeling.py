"""Trains a word-level language-model recipe into a preset directory.

`train("lstm_ptb_small")` is what `hadamard-zoo train lstm_ptb_small` runs,
Zaremba et al.'s protocol: the training split is one stream of token ids
cut into `batch_size` rows and read `num_steps` tokens at a time by a
stateful backbone (the states carry over from window to window and are
reset at the start of every epoch), SGD with a clipped global gradient
norm and a learning rate halved every epoch after the first few. The
model is checkpointed after every epoch and a later run resumes there.
Valid and test perplexities are measured on the full splits read as one
stream (batch 1, state carried through the whole text), the protocol of
the published numbers. The shipped preset is the same weights in a
stateless `RNNLMCausalLM` with its tokenizer and preprocessor.
"""

import math

import keras
import numpy as np

from hadamard_zoo.training import runs

DATASETS = {"ptb": "load_ptb"}
# Tokens per forward call when a split is scored as one stream.
EVAL_WINDOW = 2000


@keras.saving.register_keras_serializable(package="hadamard_zoo")
def window_loss(y_true, y_pred):
    """Cross-entropy summed over a window's positions (per row).

    Averaged over rows by the loss reduction: Zaremba et al.'s
    `sum(loss) / batch_size`, which is `num_steps` times the mean per-token
    cross-entropy.
    """
    loss = keras.losses.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits=True
    )
    return keras.ops.sum(loss, axis=-1)


class StreamWindows(keras.utils.PyDataset):
    """Consecutive `(batch_size, num_steps)` windows of a token stream.

    The stream is cut into `batch_size` contiguous rows (the tail that does
    not fill a row is dropped); window `i` is columns `[i·num_steps,
    (i+1)·num_steps)` and its targets the same columns shifted by one, so
    row `r` of window `i + 1` continues row `r` of window `i`.

    Args:
        ids: 1-D int array, the token stream.
        batch_size: rows.
        num_steps: tokens per window.
    """

    def __init__(self, ids, batch_size, num_steps):
        super().__init__()
        ids = np.asarray(ids, dtype="int32")
        row_length = len(ids) // batch_size
        if (row_length - 1) // num_steps < 1:
            raise ValueError(
                f"A stream of {len(ids)} tokens is too short for one window "
                f"of batch_size={batch_size} rows x num_steps={num_steps}."
            )
        self.rows = ids[: batch_size * row_length].reshape(
            batch_size, row_length
        )
        self.num_steps = num_steps

    def __len__(self):
        return (self.rows.shape[1] - 1) // self.num_steps

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(index)
        start = index * self.num_steps
        x = self.rows[:, start : start + self.num_steps]
        y = self.rows[:, start + 1 : start + self.num_steps + 1]
        return {"token_ids": x, "padding_mask": np.ones_like(x)}, y

    def set_epoch(self, epoch):
        """Every epoch reads the same windows in the same order."""


class EpochSchedule(keras.callbacks.Callback):
    """Resets the carried states and sets the rate at each epoch's start."""

    def __init__(self, recipe):
        super().__init__()
        self.recipe = recipe

    def on_epoch_begin(self, epoch, logs=None):
        self.model.reset_states()
        self.model.optimizer.learning_rate.assign(
            self.recipe.learning_rate_at(epoch)
        )


def load_stream(dataset, split, data_dir=None):
    """The word tokens of a split, as a list of str."""
    from hadamard_zoo import datasets

    return getattr(datasets, DATASETS[dataset])(split=split, data_dir=data_dir)


def build_language_model(recipe, tokenizer, stateful=False):
    """The recipe's backbone; stateful ones read `batch_size` rows."""
    from hadamard_zoo.models.rnn_lm import RNNLMBackbone

    return RNNLMBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        stateful=stateful,
        batch_size=recipe.batch_size if stateful else None,
        **recipe.backbone,
    )


def stream_perplexity(backbone, ids, window=EVAL_WINDOW):
    """Perplexity of one token stream read by `backbone`, state carried.

    Args:
        backbone: an `RNNLMBackbone` (stateful or not).
        ids: 1-D int array, the stream; token `t + 1` is predicted from
            tokens `0..t`.
        window: tokens per forward call (a memory bound only: the state
            crosses window boundaries).

    Returns:
        `(perplexity, number of predicted tokens)`.
    """
    from hadamard_zoo.models.rnn_lm import RNNLMBackbone

    config = dict(backbone.get_config(), stateful=True, batch_size=1)
    config.pop("name", None)
    reader = RNNLMBackbone.from_config(config)
    for target, source in zip(
        reader.trainable_weights, backbone.trainable_weights, strict=True
    ):
        # A host copy: on JAX the compiled call below may donate the
        # reader's buffers, which must not be the backbone's own arrays.
        target.assign(keras.ops.convert_to_numpy(source))
    reader.reset_states()
    ids = np.asarray(ids, dtype="int32")
    total = 0.0
    for start in range(0, len(ids) - 1, window):
        x = ids[None, start : start + window]
        y = ids[start + 1 : start + window + 1]
        x = x[:, : len(y)]
        # `predict_on_batch` compiles the forward pass once per window
        # shape, where an eager call on JAX re-traces the recurrence every
        # time; the stateful reader still carries its state from one call
        # to the next.
        logits = reader.predict_on_batch(
            {"token_ids": x, "padding_mask": np.ones_like(x)}
        )
        log_p = keras.ops.log_softmax(keras.ops.cast(logits, "float32"), -1)
        log_p = keras.ops.convert_to_numpy(log_p)[0]
        total -= float(np.take_along_axis(log_p, y[:, None], -1).sum())
    count = len(ids) - 1
    return math.exp(total / count), count


def train(
    name,
    output_dir=None,
    checkpoint_dir=None,
    epochs=None,
    max_train_examples=None,
    resume=True,
    data_parallel=False,
    data_dir=None,
    verbose="auto",
    seed=None,
):
    """Trains language-model recipe `name` and writes its preset.

    Args:
        name: a recipe name (`hadamard_zoo.training.RECIPES`).
        output_dir: where the preset directory goes. Defaults to
            `presets/<name>`.
        checkpoint_dir: where per-epoch checkpoints go. Defaults to
            `$HADAMARD_ZOO_CHECKPOINTS/<name>` or the Keras cache.
        epochs: overrides the recipe's number of epochs (smoke runs).
        max_train_examples: trains on the first N tokens of the training
            stream only (smoke runs); the vocabulary is always the full
            training split's and the evaluation splits are complete.
        resume: continue from the last checkpoint of the same run, if any.
        data_parallel: not supported: the carried states tie each row of
            the batch to one device-independent stream position.
        data_dir: dataset directory (see `hadamard_zoo.datasets`).
        verbose: `model.fit` verbosity (1 shows a progress bar).
        seed: overrides the recipe's seed (a second run of the same
            recipe); recorded in the preset's recipe and command.

    Returns:
        The metrics dict written to `metrics.json`.
    """
    from hadamard_zoo.models.rnn_lm import RNNLMCausalLM
    from hadamard_zoo.models.rnn_lm import RNNLMCausalLMPreprocessor
    from hadamard_zoo.models.rnn_lm import RNNLMTokenizer

    if data_parallel:
        raise ValueError(
            "`data_parallel=True` is not supported for language models: "
            "their states carry over between batches row by row."
        )
    recipe, output_dir, checkpoint_dir = runs.resolve_run(
        name, seed, epochs, output_dir, checkpoint_dir
    )
    train_tokens = load_stream(recipe.dataset, "train", data_dir)
    tokenizer = RNNLMTokenizer.from_corpus(train_tokens)

    def ids_of(tokens):
        return np.asarray(
            [tokenizer.token_to_id(t) for t in tokens], dtype="int32"
        )

    train_ids = ids_of(train_tokens)
    if max_train_examples:
        train_ids = train_ids[:max_train_examples]
    windows = StreamWindows(train_ids, recipe.batch_size, recipe.num_steps)
    key = runs.run_key(recipe, len(train_ids))

    keras.utils.set_random_seed(recipe.seed)
    trainer = build_language_model(recipe, tokenizer, stateful=True)

    def compile_model(model):
        model.compile(
            optimizer=keras.optimizers.SGD(
                recipe.learning_rate, global_clipnorm=recipe.clip_norm
            ),
            loss=window_loss,
        )

    progress = runs.load_progress(checkpoint_dir, key) if resume else None
    if progress is not None:
        print(
            f"Resuming {recipe.name} after epoch {progress['epochs_done']} "
            f"from {checkpoint_dir}"
        )
        trainer = keras.saving.load_model(checkpoint_dir / runs.CHECKPOINT_FILE)
    else:
        compile_model(trainer)
        progress = runs.new_progress(key)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    if progress["epochs_done"] < recipe.epochs:
        trainer.fit(
            windows,
            epochs=recipe.epochs,
            initial_epoch=progress["epochs_done"],
            shuffle=False,
            callbacks=[
                EpochSchedule(recipe),
                runs.EpochCheckpoint(checkpoint_dir, windows, progress),
            ],
            verbose=verbose,
        )

    backbone = build_language_model(recipe, tokenizer, stateful=False)
    backbone.set_weights(trainer.stateless_weights())
    scores = {}
    for split in ("valid", "test"):
        perplexity, count = stream_perplexity(
            backbone, ids_of(load_stream(recipe.dataset, split, data_dir))
        )
        scores[split] = {"perplexity": round(perplexity, 2), "tokens": count}
    preprocessor = RNNLMCausalLMPreprocessor(
        tokenizer, sequence_length=recipe.sequence_length
    )
    model = RNNLMCausalLM(backbone, preprocessor=preprocessor)
    history = [
        dict(h, perplexity=math.exp(h["loss"] / recipe.num_steps))
        for h in progress["history"]
    ]
    metrics = {
        "preset": recipe.name,
        "description": recipe.description,
        "dataset": recipe.dataset,
        "split": "test",
        "examples": scores["test"]["tokens"],
        "metric": "perplexity",
        "value": scores["test"]["perplexity"],
        "valid_perplexity": scores["valid"]["perplexity"],
        "train_tokens": int(len(train_ids)),
        "vocabulary_size": int(tokenizer.vocabulary_size()),
        "parameters": int(backbone.count_params()),
        "epochs": recipe.epochs,
        "train_seconds": round(progress["train_seconds"], 1),
        "history": history,
        "baseline_of": recipe.baseline_of,
        "recipe": recipe.to_dict(),
        **runs.environment_record(),
        "command": runs.train_command(
            name, epochs, max_train_examples, seed=seed
        ),
    }
    runs.write_preset(output_dir, model, metrics)
    print(
        f"{recipe.name}: test perplexity {metrics['value']:.2f}, valid "
        f"{metrics['valid_perplexity']:.2f} ({metrics['train_seconds']:.0f} "
        f"s of training) -> {output_dir}"
    )
    return metrics
