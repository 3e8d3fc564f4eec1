"""Models: the x2 layers (`upsamplers`), the networks built around them (`builders`), their phase
analysis (`phases`), and the LightningModules: `base` (what every model shares), `autoencoder`,
`vae`, `gan` (with `generative`, what the two generators share).

May import: the root modules, `measures`, `data`. Imports no run, picture or report code.
"""
