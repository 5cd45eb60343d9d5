"""Where hadamard_zoo keeps downloads and checkpoints on this machine."""

import os


def keras_home():
    """The Keras base directory: `$KERAS_HOME`, else `~/.keras`.

    Falls back to `/tmp/.keras` when the home directory is not writable, as
    `keras.utils.get_file` does. The environment is read on each call.
    """
    if "KERAS_HOME" in os.environ:
        return os.path.expanduser(os.environ["KERAS_HOME"])
    home = os.path.expanduser("~")
    if not os.access(home, os.W_OK):
        home = "/tmp"
    return os.path.join(home, ".keras")
