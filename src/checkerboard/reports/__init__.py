"""Reports: read finished runs and sweeps back and write tables and figures: `sweeps` (discovery),
`statistics`, `comparison` (scripts/compare.py), `figures` and `untrained` (scripts/figures.py), the
`benchmark` and its report, `sample` (scripts/sample.py).

May import every wing. Nothing imports it but `scripts/`.
"""
