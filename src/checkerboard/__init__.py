"""checkerboard: why transposed convolutions leave checkerboard artifacts, measured and shown."""

__version__ = "0.1.0"
