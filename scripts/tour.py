"""A guided run through the notes' worked examples, checked against the notes' own numbers.

    python scripts/tour.py                    # every section, in the notes' order
    python scripts/tour.py --section pooling  # one section

Exits 1 if any example disagrees with the notes. The tour itself is `checkerboard.notes.tour`.
"""

import sys

from checkerboard.notes.tour import main

if __name__ == "__main__":
    sys.exit(main())
