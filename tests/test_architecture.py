"""The layering of engine v2 (issue 15): the semantic model and the rules on
it never import libcst.

* every module under ``kmlint/semantics/`` (and ``kmlint/syntax/``), always;
* under ``kmlint/checks/``, the modules whose rule class declares
  ``engine = "ast"``: during the migration the other rules still run on the
  libcst model (``kmlint/legacy``), and each one joins this test when it moves.

"Imports libcst" means an ``import libcst``/``from libcst ...`` anywhere in the
module (also inside functions), or an import of ``kmlint.legacy`` (the libcst
model).  For the model itself the check is also made at run time: importing
every ``kmlint.semantics`` module in a fresh interpreter must not load libcst.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kmlint"
FORBIDDEN = ("libcst", "kmlint.legacy")


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of libcst or of the libcst model."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _forbidden(node.module):
                out.append((node.lineno, node.module))
            elif node.module == "kmlint":
                out += [(node.lineno, f"kmlint.{a.name}") for a in node.names if _forbidden(f"kmlint.{a.name}")]
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            # importlib.import_module("libcst") / __import__("libcst")
            func = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if func in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and _forbidden(node.args[0].value):
                out.append((node.lineno, node.args[0].value))
    return out


def declares_ast_engine(source: str) -> bool:
    """Whether a class of the module says ``engine = "ast"`` in its body."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        for stmt in node.body:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else \
                [stmt.target] if isinstance(stmt, ast.AnnAssign) and stmt.value is not None else []
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            if any(isinstance(t, ast.Name) and t.id == "engine" for t in targets) \
                    and isinstance(value, ast.Constant) and value.value == "ast":
                return True
    return False


def model_modules() -> list[Path]:
    return sorted((PACKAGE / "semantics").rglob("*.py")) + sorted((PACKAGE / "syntax").rglob("*.py"))


def ast_rule_modules() -> list[Path]:
    return [p for p in sorted((PACKAGE / "checks").rglob("*.py"))
            if declares_ast_engine(p.read_text(encoding="utf-8"))]


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def test_the_model_never_imports_libcst():
    modules = model_modules()
    assert {"model.py", "names.py"} <= {p.name for p in modules}
    bad = {_rel(p): forbidden_imports(p.read_text(encoding="utf-8")) for p in modules}
    assert {k: v for k, v in bad.items() if v} == {}


@pytest.mark.parametrize("path", [_rel(p) for p in ast_rule_modules()] or ["(no rule declares engine = 'ast' yet)"])
def test_rules_on_the_ast_engine_never_import_libcst(path):
    if path.startswith("("):
        pytest.skip(path)
    assert forbidden_imports((ROOT / path).read_text(encoding="utf-8")) == []


def test_importing_the_model_loads_no_libcst():
    names = []
    for p in model_modules():
        parts = p.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    code = ("import importlib, sys\n"
            f"for n in {names!r}:\n"
            "    importlib.import_module(n)\n"
            "    if 'libcst' in sys.modules:\n"
            "        print(n); sys.exit(1)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"importing {r.stdout.strip()} loaded libcst\n{r.stderr[-2000:]}"


# the detectors themselves

def test_forbidden_imports_are_found_anywhere():
    src = ("import os\n"
           "def f():\n"
           "    import libcst as cst\n"
           "from libcst.metadata import PositionProvider\n"
           "from kmlint.legacy.semantics.names import get_arg\n"
           "from kmlint import legacy\n"
           "m = importlib.import_module('libcst')\n"
           "from kmlint.semantics.names import get_arg\n"
           "import libcst_like\n")
    assert sorted(line for line, _ in forbidden_imports(src)) == [3, 4, 5, 6, 7]


def test_rules_join_the_check_when_they_declare_the_ast_engine():
    assert declares_ast_engine("class R(Rule):\n    code = 'KM1'\n    engine = 'ast'\n")
    assert declares_ast_engine("class R(Rule):\n    engine: str = 'ast'\n")
    assert not declares_ast_engine("class R(Rule):\n    engine = 'libcst'\n")
    assert not declares_ast_engine("engine = 'ast'\nclass R(Rule):\n    pass\n")
