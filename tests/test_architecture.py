"""The layering of engine v2 (issue 15).

* The syntax layer, the semantic model and the rules never import libcst
  (anywhere in the module, also inside functions); libcst is imported only
  where code is rendered or where the newer-syntax question is asked: the
  runtime instrumentation and ``kmlint/engine/parsing.py``.
* The tree shows the layers: ``kmlint.syntax`` and ``kmlint.knowledge`` at the
  bottom, the model (``kmlint.semantics``) on them, the rules on the model,
  the pipeline (``kmlint.engine``) on top; no rule imports the engine and no
  module-level import goes round in a circle.
* At run time: a whole ``kmlint check`` of a file with findings loads no
  libcst.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kmlint"
FORBIDDEN = ("libcst",)
LIBCST_ALLOWED = {"kmlint/engine/parsing.py", "kmlint/runtime/instrument.py", "kmlint/runtime/specs.py"}


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of libcst, wherever it stands."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _forbidden(node.module):
                out.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            # importlib.import_module("libcst") / __import__("libcst")
            func = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if func in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and _forbidden(node.args[0].value):
                out.append((node.lineno, node.args[0].value))
    return out


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        parts = p.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """kmlint modules imported by a module (top level only: what runs at import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("kmlint")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("kmlint"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def test_only_rendering_code_imports_libcst():
    bad = {_rel(p): forbidden_imports(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))
           if _rel(p) not in LIBCST_ALLOWED}
    assert {k: v for k, v in bad.items() if v} == {}


LAYERS = [
    # (package prefix, what it may import besides itself)
    ("kmlint.syntax", ()),
    ("kmlint.knowledge", ()),
    ("kmlint.semantics", ("kmlint.syntax", "kmlint.knowledge", "kmlint.findings", "kmlint.edits")),
    ("kmlint.checks", ("kmlint.syntax", "kmlint.knowledge", "kmlint.semantics", "kmlint.findings", "kmlint.edits",
                       "kmlint.registry")),
]


def test_each_layer_imports_only_the_layers_below():
    modules = _modules()
    bad = []
    for prefix, allowed in LAYERS:
        for name, path in modules.items():
            if not (name == prefix or name.startswith(prefix + ".")):
                continue
            for imported in _imports(path, top_level_only=False):
                if imported == "kmlint" or imported.startswith(prefix):
                    continue
                if not any(imported == a or imported.startswith(a + ".") for a in allowed):
                    bad.append((name, imported))
    assert bad == []


def test_no_import_circle_at_module_level():
    modules = _modules()
    graph = {name: {m for m in _imports(path, top_level_only=True) if m in modules and m != name}
             for name, path in modules.items()}
    # packages import their __init__ first; an edge to a package is an edge to its __init__
    cycles = []

    def visit(node, stack, on_stack, done):
        on_stack.add(node)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt in on_stack:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in done:
                visit(nxt, stack, on_stack, done)
        stack.pop()
        on_stack.discard(node)
        done.add(node)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [], set(), done)
    assert cycles == []


def test_a_whole_check_loads_no_libcst(tmp_path):
    target = tmp_path / "train.py"
    target.write_text("import numpy as np\nimport tensorflow as tf\n"
                      "x = np.zeros((100000, 100))\nmodel = tf.keras.Sequential()\n"
                      "model.fit_generator(gen)\nfor i in range(10):\n    model.predict(x[i:i + 1])\n")
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from kmlint.cli import main\n"
        f"r = CliRunner().invoke(main, ['check', '--no-cache', '--output-format', 'json', {str(target)!r}])\n"
        "assert r.exit_code == 1 and 'KM201' in r.output, r.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'libcst'))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ}, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "[]"


# the detector itself

def test_forbidden_imports_are_found_anywhere():
    src = ("import os\n"
           "def f():\n"
           "    import libcst as cst\n"
           "from libcst.metadata import PositionProvider\n"
           "m = importlib.import_module('libcst')\n"
           "from kmlint.semantics.names import get_arg\n"
           "import libcst_like\n")
    assert sorted(line for line, _ in forbidden_imports(src)) == [3, 4, 5]
