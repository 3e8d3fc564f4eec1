"""checkerboard: why transposed convolutions leave checkerboard artifacts, measured and shown."""

from pathlib import Path

__version__ = "0.1.0"

#: The repository: configs/, outputs/ and data/ hang off it (the project is installed editable).
ROOT = Path(__file__).resolve().parents[2]
