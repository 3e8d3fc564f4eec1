"""The package's layering, read from its imports: a lower wing never imports a higher one.

Floors, lowest first: the root modules (errors, formatting, arithmetic); data and measures; models;
pictures; run and notes; reports. A module imports from its own wing or from lower floors only, and
nothing imports `reports` but the scripts. See CONTRIBUTING.md's map.
"""

import ast
import subprocess
import sys

import pytest

from checkerboard import ROOT

PACKAGE = ROOT / "src" / "checkerboard"
FLOORS = {"": 0, "data": 1, "measures": 1, "models": 2, "pictures": 3, "run": 4, "notes": 4, "reports": 5}
MODULES = sorted(PACKAGE.rglob("*.py"))


def wing(module: str) -> str:
    """'checkerboard.models.gan' -> 'models'; a root module ('checkerboard.errors') -> ''."""
    parts = module.split(".")[1:]
    return parts[0] if len(parts) > 1 and parts[0] in FLOORS else ""


def name_of(path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(p for p in rel.parts if p != "__init__")


def imports(path) -> set[str]:
    """Every checkerboard module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("checkerboard"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in NAMES)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("checkerboard"))
    return found


NAMES = {name_of(p) for p in MODULES}


def test_every_module_is_in_a_known_wing():
    assert {wing(m) for m in NAMES} == set(FLOORS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: name_of(p))
def test_no_import_reaches_up(path):
    me = name_of(path)
    for target in imports(path):
        mine, theirs = wing(me), wing(target)
        if mine == theirs or target == "checkerboard":
            continue
        assert FLOORS[theirs] < FLOORS[mine], f"{me} imports {target}: floor {FLOORS[theirs]} >= {FLOORS[mine]}"


def test_a_wing_sees_the_others_as_planned():
    """The checks above, spelt out as the map says: measures and data import no model, models no run."""
    arrows = {(wing(name_of(p)), wing(t)) for p in MODULES for t in imports(p)}
    for low, high in [("measures", "models"), ("data", "models"), ("models", "run"), ("data", "measures"),
                      ("measures", "data"), ("run", "reports"), ("notes", "reports"), ("pictures", "run")]:
        assert (low, high) not in arrows


@pytest.mark.parametrize("path", MODULES, ids=lambda p: name_of(p))
def test_modules_are_short_and_say_what_they_hold(path):
    text = path.read_text()
    assert len(text.splitlines()) <= 400, f"{name_of(path)} has {len(text.splitlines())} lines"
    doc = ast.get_docstring(ast.parse(text))
    assert doc and len(doc.splitlines()[0]) > 20, f"{name_of(path)} needs a first line saying what it holds"


def test_the_run_wing_starts_without_torch():
    """`python train.py --help` stays fast: importing the run wing's entry point pulls in no torch."""
    code = "import sys, checkerboard.run, checkerboard.run.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
