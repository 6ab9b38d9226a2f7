"""The layers import downward only: rest → schema → access → db, with the execution engine beside them.

Only the composition root (`app/`) imports everything. A violation is an import of a package a layer may not
know, anywhere in its modules (a function-local import too).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"app", "rest", "schema", "access", "db", "execution"}
# What each package may import of ours, besides itself.
ALLOWED = {
    "app": OURS,
    "rest": {"schema", "access", "db", "execution"},
    "schema": {"access", "db", "execution"},
    "access": {"db"},
    "db": {"execution"},
    "execution": set(),
}


def imports(path: Path) -> set[str]:
    """The top-level packages of ours that a module imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.partition(".")[0] for name in names)
    return found & OURS


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            for imported in sorted(imports(path) - allowed - {package}):
                found.append(f"{path.relative_to(root)} imports {imported}")
    return found


def test_every_layer_imports_only_the_layers_below_it():
    assert violations() == []


def test_a_violation_is_found(tmp_path: Path):
    for package in ALLOWED:
        (tmp_path / package).mkdir()
    (tmp_path / "db" / "queries.py").write_text("def f():\n    from schema.types import Course\n")
    (tmp_path / "execution" / "plans.py").write_text("import db.engine\n")
    (tmp_path / "rest" / "fine.py").write_text("from schema.runtime import GraphQLRuntime\nfrom . import x\n")
    assert violations(tmp_path) == ["db/queries.py imports schema", "execution/plans.py imports db"]
