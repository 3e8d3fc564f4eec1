"""Pictures: tensor panels for TensorBoard (`panels`) and the matplotlib helpers every figure shares (`plots`).

May import: the root modules, `measures`, `models`. Imports no run or report code.
"""
