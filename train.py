"""Train one model: `python train.py decoder=tconv data=mnist`. See src/checkerboard/cli.py."""

from checkerboard.run.cli import main

if __name__ == "__main__":
    main()
