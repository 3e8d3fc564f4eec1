"""Notes: the notebook's worked examples of convolution arithmetic as data (`examples`), the `tour` that
runs and checks them, and their `figures`.

May import: the root modules and `pictures`.
"""
