"""Train one autoencoder: `python train.py decoder=tconv data=mnist`. See src/checkerboard/train.py."""

from checkerboard.train import main

if __name__ == "__main__":
    main()
