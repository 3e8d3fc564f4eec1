"""Compare the decoders of a sweep: a table, a CSV and two figures, written into the sweep folder.

    python train.py -m experiment=compare                       # every decoder x seeds 0,1,2
    python scripts/compare.py                                   # the newest sweep under outputs/multirun/
    python scripts/compare.py outputs/multirun/<date>_<time>    # or a given sweep, from any launcher

The report itself is `checkerboard.reports.comparison`.
"""

from checkerboard.reports.comparison import main

if __name__ == "__main__":
    raise SystemExit(main())
