"""How fast is the project's training path, against a bare PyTorch loop on the same everything?

    CHECKERBOARD_DATA_DIR=/path/with/MNIST python scripts/benchmark.py      # every decoder, CPU, MNIST
    python scripts/benchmark.py --decoders tconv upsample --repeats 5 --json speed.json --markdown speed.md
    python scripts/benchmark.py --device cuda        # variants fp32, bf16, bf16+channels_last, +compile
    python scripts/benchmark.py data=shapes          # any `python train.py` override goes at the end
    python scripts/benchmark.py --lightning-alone    # also A = the same config with callbacks=none logger=none

How it measures: `checkerboard.reports.benchmark`; the tables: `checkerboard.reports.benchmark_report`.
"""

from checkerboard.reports.benchmark_report import main

if __name__ == "__main__":
    main()
