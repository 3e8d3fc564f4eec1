"""Figures drawn from the code, as PNGs for the README.

    python scripts/figures.py --notes                 # the three pictures the notes refer to
    python scripts/figures.py --artifacts             # overlap and phase variance at initialisation
    python scripts/figures.py --decoders              # every decoder after the same short training
    python scripts/figures.py --notes --out /tmp/fig  # elsewhere (default: outputs/figures)
    python scripts/figures.py                         # every registered figure

The figures themselves are `checkerboard.reports.figures` (and `notes.figures`, `reports.untrained`).
"""

from checkerboard.reports.figures import main

if __name__ == "__main__":
    main()
