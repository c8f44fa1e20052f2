"""cnn-tui: train convolutional networks from YAML recipes and watch them learn in the terminal.

The package root stays import-light on purpose: `cnn-tui --help` and `cnn-tui list`
must not pay for importing torch.
"""

__version__ = "0.1.0"
