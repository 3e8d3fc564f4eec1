"""Replay convergence rules on finished runs: where each would have stopped them, and what they gained after.

    python scripts/replay_plateau.py SWEEP [SWEEP ...]                  # the default rules
    python scripts/replay_plateau.py SWEEP --rule 1,0.2,5 5,0.5,10      # SMOOTH,FRACTION,MIN_EPOCHS each

The report itself is `checkerboard.reports.plateau_replay`.
"""

from checkerboard.reports.plateau_replay import main

if __name__ == "__main__":
    raise SystemExit(main())
