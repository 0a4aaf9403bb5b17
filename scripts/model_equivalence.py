"""Compare the engine v2 semantic model (CPython ast, kmlint/semantics) with
the libcst model it replaces (kmlint/legacy/semantics) on a corpus of files.

    python scripts/model_equivalence.py                  # dossiers, fixtures, prefilter traps
    python scripts/model_equivalence.py --keras          # ... and the installed keras package
    python scripts/model_equivalence.py DIR_OR_FILE ...  # these files only (.py, .ipynb)
    python scripts/model_equivalence.py --timing ...     # also time parse+model of both

The libcst model is imported from this tree while it has kmlint/legacy; once it
is gone, from the last git revision that had it (extracted to a temporary
directory and run in a worker process).

Both models are built for every file and reduced to facts keyed by source
line, then compared as multisets per file:

* calls: name, qualname of the callee, line, loop depth and loop kinds;
* loops: kind, line, targets, the names bound in the body, known iterations;
* bindings per scope: scope (kind, name, line), name, kind, line;
* the binding every loaded name resolves to (name, kind, line);
* functions: name, params, decorators, class, callers' lines, returns, yields;
* loop_contexts of each call (loop kind and line, helper call lines);
* is_keras_model / is_dataset on every call receiver, and the chain of it;
* module_entry of each call (as the chain of call lines it goes through);
* target stores, with items, imports, imported roots.

Known differences by design (the tree differs; see kmlint/semantics/model.py)
are left out of the facts: ``True``/``False``/``None`` are constants in ast,
the name of ``except E as name`` and match-pattern captures are strings in
ast, a starred target's element path ends in -1, and the statement of a call
on a line shared with other statements (``a = f(); b = g()``, ``if x: f()``)
is the simple statement in ast, the line or the compound statement in libcst.
Two differences are improvements of the ast model and show up as such:
the defaults of a lambda are evaluated (``lambda p=policy: ...`` loads
``policy``; the libcst model skipped them), and ``except* E as eg`` binds
``eg``.  Exit status 1 when a fact differs.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ``--legacy-worker DIR``: this process computes the libcst model's facts from
# the kmlint tree in DIR (a revision that still had kmlint/legacy)
WORKER_ROOT = sys.argv[sys.argv.index("--legacy-worker") + 1] if "--legacy-worker" in sys.argv else None
sys.path.insert(0, WORKER_ROOT or str(ROOT))

import libcst as cst  # noqa: E402
from libcst.metadata import MetadataWrapper, PositionProvider  # noqa: E402

from kmlint.semantics import model as v2_model  # noqa: E402
from kmlint.syntax import LineIndex, parse  # noqa: E402

try:  # the libcst model, while it is in the tree
    from kmlint.engine.parsing import parse_module  # noqa: E402
    from kmlint.legacy.semantics import model as legacy_model  # noqa: E402
except ImportError:
    parse_module = legacy_model = None  # type: ignore[assignment]

CONSTANT_NAMES = {"True", "False", "None"}


def default_corpus(keras: bool) -> list[Path]:
    files = sorted((ROOT / "rules").glob("*/*.py"))
    for extra in (ROOT / "fixtures", ROOT / "tests" / "prefilter_traps"):
        files += sorted(p for p in extra.rglob("*.py") if p.is_file())
    if keras:
        try:
            import importlib.util
            spec = importlib.util.find_spec("keras")
            if spec is not None and spec.origin:
                files += sorted(Path(spec.origin).parent.rglob("*.py"))
        except (ImportError, ValueError):
            print("keras is not installed: skipped", file=sys.stderr)
    return files


def expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        out += sorted(f for f in p.rglob("*") if f.suffix in (".py", ".ipynb") and f.is_file()) if p.is_dir() else [p]
    return out


def read_source(path: Path) -> str:
    """A file's Python source; a notebook's code cells as the linter joins them."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        from kmlint.engine.notebooks import load_notebook
        return load_notebook(text).source
    return text


# --------------------------------------------------------------------------- facts


class Facts:
    """One model reduced to comparable facts; ``line(node)`` gives a node's line."""

    def __init__(self, m, line, kind: str, shared: frozenset = frozenset()):
        self.shared = shared
        self.m = m
        self.line = line
        self.kind = kind  # "legacy" | "v2"
        self.out: dict[str, Counter] = {}

    def add(self, category: str, fact) -> None:
        self.out.setdefault(category, Counter())[fact] += 1

    # node-type questions whose answer differs only in spelling between the trees
    def is_name(self, node) -> bool:
        return isinstance(node, cst.Name) if self.kind == "legacy" else isinstance(node, ast.Name)

    def name_of(self, node) -> str:
        return node.value if self.kind == "legacy" else node.id

    def binding_line(self, b) -> int:
        node = b.node
        if self.kind == "legacy":
            if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                return self.line(node.name)
            if isinstance(node, (cst.Import, cst.ImportFrom)):
                return self.line(node)
            return self.line(node) if node is not None else -1
        return self.line(node) if node is not None else -1

    def scope_key(self, s) -> tuple:
        if s.kind == "module":
            return ("module", "", 0)
        node = s.node
        if self.kind == "legacy" and isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return (s.kind, s.name, self.line(node.name))
        return (s.kind, s.name, self.node_line(node))

    def node_line(self, node) -> int:
        """A node's line; a comprehension's is its first target's (libcst and ast
        disagree on whether a generator expression's parentheses are part of it)."""
        if self.kind == "legacy" and isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return self.line(node.for_in.target)
        if self.kind == "v2" and isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self.line(node.generators[0].target)
        return self.line(node)

    def stmt_line(self, stmt) -> int:
        if stmt is None:
            return -1
        if self.kind == "legacy" and isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return self.line(stmt.name)  # libcst's range starts at the decorators
        return self.line(stmt)

    def neighbours(self, stmt, body) -> tuple:
        """Lines of the statements before and after ``stmt`` in its body."""
        for i, s in enumerate(body):
            if s is stmt:
                before = self.stmt_line(body[i - 1]) if i else None
                after = self.stmt_line(body[i + 1]) if i + 1 < len(body) else None
                return (before, after)
        return ("missing",)

    def call_key(self, cs) -> tuple:
        return (cs.name, self.line(cs.node))

    def collect(self) -> dict[str, Counter]:
        m, line = self.m, self.line
        for cs in m.calls:
            self.add("calls", (cs.name, m.qualname(cs.node.func), line(cs.node), len(cs.loops),
                               tuple(lp.kind for lp in cs.loops)))
            self.add("loop_contexts", (self.call_key(cs), tuple(
                (lp.kind, self.node_line(lp.node), tuple(self.call_key(c) for c in chain)) for lp, chain in m.loop_contexts(cs))))
            entry = m.module_entry(cs)
            self.add("module_entry", (self.call_key(cs), entry is not None))
            fn = m.function_called(cs)
            self.add("function_called", (self.call_key(cs), fn.name if fn is not None else None))
            r = cs.receiver
            if r is not None:
                ch = m.chain(r)
                self.add("receivers", (self.call_key(cs), m.is_keras_model(r), m.is_dataset(r),
                                       tuple(ch.methods()), ch.origin_qualname))
            stmt = cs.stmt
            body = m.enclosing_body(stmt) if stmt is not None else None
            if line(cs.node) not in self.shared:
                # indexes shift after a line of several statements: compare lines
                top = m.statements[cs.top_index] if 0 <= cs.top_index < len(m.statements) else None
                self.add("statements", (self.call_key(cs), self.stmt_line(stmt), self.stmt_line(top),
                                        None if body is None else self.neighbours(stmt, body[1])))
            chn = m.chain(cs.node)
            self.add("chains", (self.call_key(cs), tuple(chn.methods()), tuple(st.maybe for st in chn.steps),
                                chn.origin_qualname,
                                tuple(line(n) for n in chn.names if self.name_of(n) not in CONSTANT_NAMES)))
        for lp in m.loops:
            self.add("loops", (lp.kind, self.node_line(lp.node), tuple(sorted(lp.targets)), tuple(sorted(lp.body_bound)),
                               m.known_iterations(lp), len(lp.calls), lp.parent is not None))
        for s in m.scopes:
            sk = self.scope_key(s)
            self.add("scopes", sk)
            for name, bs in s.bindings.items():
                for b in bs:
                    # a starred target's path ends in -1 in v2 (``*a, b = v``: a is (0, -1));
                    # the libcst model gave (0,), as if ``a`` were element 0
                    path = b.path[:-1] if self.kind == "v2" and b.path[-1:] == (-1,) else b.path
                    self.add("bindings", (sk, name, b.kind, self.binding_line(b), path, b.imported, len(b.loops)))
        for name, uses in m.uses.items():
            if name in CONSTANT_NAMES:
                continue
            for u in uses:
                if self.kind == "legacy" and u.kind == "store" and u.parents and isinstance(u.parents[0], cst.AsName) \
                        and len(u.parents) > 1 and isinstance(u.parents[1], cst.ExceptHandler):
                    continue  # `except E as name`: a string in ast
                if self.kind == "legacy" and u.parents and isinstance(
                        u.parents[0], (cst.MatchAs, cst.MatchStar, cst.MatchMapping, cst.MatchKeywordElement)):
                    continue  # match captures/keys: strings in ast
                self.add("uses", (name, u.kind, line(u.node), len(u.loops), u.function.name if u.function else None))
                if u.kind == "load":
                    b = m.lookup(name, u.scope, u.order)
                    self.add("resolution", (name, line(u.node), None if b is None else (b.kind, self.binding_line(b))))
        for fn in m.functions:
            self.add("functions", (fn.name, tuple(fn.params), tuple(fn.decorators), fn.class_name,
                                   tuple(sorted(self.call_key(c) for c in m.callers(fn))), len(fn.returns),
                                   len(fn.yields), len(fn.calls), len(fn.decorator_calls)))
            self.add("param_derived", (fn.name, self.scope_key(fn.scope), tuple(sorted(m.param_derived_names(fn)))))
        for st in m.target_stores:
            self.add("target_stores", (line(st.target), len(st.loops), st.function.name if st.function else None))
        for key in m.with_items:
            self.add("with_items", 1)
        for local, target in m.imports.items():
            self.add("imports", (local, target))
        for root in m.imported_roots:
            self.add("imported_roots", root)
        for attr, loads in m.attribute_loads.items():
            self.add("attribute_loads", (attr, len(loads)))
        self.add("yields", len(m.yields))
        for uses in m.value_uses.values():
            for kind, _ in uses:
                self.add("value_uses", kind)
        self.add("parent_of", len(m.parent_of))
        self.add("dels", tuple(sorted((u.name, line(u.node)) for u in m.dels)))
        return self.out


def shared_lines(source: str) -> frozenset:
    """Lines of simple statements that share their line with other code
    (``a = f(); b = g()``, ``if x: f()``): libcst's statement there is the whole
    line or the compound statement, ast's the simple statement itself."""
    tree = parse(source)
    index = LineIndex(source)
    out = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or hasattr(node, "body"):
            continue
        span = index.span(node)
        before = index.line_text(span.line)[:span.col].strip()
        after = index.line_text(span.end_line)[span.end_col:].strip()
        if before or (after and not after.startswith("#")):
            out.update(range(span.line, span.end_line + 1))
    return frozenset(out)


def legacy_facts(source: str) -> dict[str, Counter]:
    module = parse_module(source)
    m = legacy_model.build_model(module, source)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def line(node):
        pos = positions.get(node)
        return pos.start.line if pos is not None else -1

    return Facts(m, line, "legacy", shared_lines(source)).collect()


_LEGACY_TREE: list = []  # [TemporaryDirectory] holding the extracted legacy revision


def legacy_revision() -> str:
    """The last commit whose tree still has the libcst model."""
    import subprocess
    removed = subprocess.run(
        ["git", "log", "-1", "--format=%H", "--diff-filter=D", "--", "kmlint/legacy/semantics/model.py"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    if not removed:
        raise RuntimeError("no commit removed kmlint/legacy/semantics/model.py")
    return removed + "^"


def _legacy_tree() -> str:
    """A directory holding ``kmlint/`` as of ``legacy_revision()`` (extracted once)."""
    if not _LEGACY_TREE:
        import io
        import subprocess
        import tarfile
        import tempfile
        tmp = tempfile.TemporaryDirectory(prefix="kmlint-legacy-")
        data = subprocess.run(["git", "archive", "--format=tar", legacy_revision(), "kmlint"],
                              cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tmp.name)
        _LEGACY_TREE.append(tmp)
    return _LEGACY_TREE[0].name


def legacy_facts_many(sources: list[str]) -> list:
    """The libcst model's facts of each source (None where it does not parse):
    in this process while kmlint/legacy exists, else in a worker process that
    imports kmlint from the last revision that had it."""
    if legacy_model is not None and WORKER_ROOT is None:
        out = []
        for source in sources:
            try:
                out.append(legacy_facts(source))
            except (cst.ParserSyntaxError, RecursionError, ValueError):
                out.append(None)
        return out
    import pickle
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "in.pickle", Path(tmp) / "out.pickle"
        inp.write_bytes(pickle.dumps(sources))
        subprocess.run([sys.executable, __file__, "--legacy-worker", _legacy_tree(), str(inp), str(outp)],
                       check=True)
        return pickle.loads(outp.read_bytes())


def legacy_worker(inp: str, outp: str) -> None:
    import pickle
    sources = pickle.loads(Path(inp).read_bytes())
    facts = []
    for source in sources:
        try:
            facts.append(legacy_facts(source))
        except (cst.ParserSyntaxError, SyntaxError, RecursionError, ValueError):
            facts.append(None)
    Path(outp).write_bytes(pickle.dumps(facts))


def v2_facts(source: str) -> dict[str, Counter]:
    tree = parse(source)
    m = v2_model.build_model(tree, source)

    def line(node):
        return getattr(node, "lineno", -1)

    return Facts(m, line, "v2", shared_lines(source)).collect()


COMPARED = Counter()


def _diff(old: dict, new: dict) -> dict[str, tuple[Counter, Counter]]:
    COMPARED["files"] += 1
    COMPARED["facts"] += sum(sum(c.values()) for c in old.values())
    out = {}
    for category in sorted(set(old) | set(new)):
        a, b = old.get(category, Counter()), new.get(category, Counter())
        if a != b:
            out[category] = (a - b, b - a)
    return out


def differences(source: str) -> dict[str, tuple[Counter, Counter]]:
    """category -> (facts only the legacy model has, facts only v2 has); empty
    when the models agree.  Raises SyntaxError when either parser rejects it."""
    [old] = legacy_facts_many([source])
    if old is None:
        raise SyntaxError("libcst does not parse it")
    return _diff(old, v2_facts(source))


def compare_many(paths: list[Path], show: int, batch: int = 200) -> tuple[int, Counter, int]:
    """(differing facts, per category, files with differences) over files."""
    total, differing = 0, 0
    per_category: Counter = Counter()
    for start in range(0, len(paths), batch):
        chunk, sources = [], []
        for path in paths[start:start + batch]:
            try:
                source = read_source(path)
                parse(source)
            except (SyntaxError, RecursionError, ValueError, OSError):
                continue
            chunk.append(path)
            sources.append(source)
        for path, source, old in zip(chunk, sources, legacy_facts_many(sources)):
            if old is None:
                continue
            diff = _diff(old, v2_facts(source))
            n_file = 0
            for category, (only_old, only_new) in diff.items():
                n = sum(only_old.values()) + sum(only_new.values())
                n_file += n
                per_category[category] += n
                if show:
                    print(f"{path}: {category}", flush=True)
                    for fact in list(only_old)[:show]:
                        print(f"    legacy only: {fact}")
                    for fact in list(only_new)[:show]:
                        print(f"    v2 only:     {fact}")
            total += n_file
            differing += bool(n_file)
    return total, per_category, differing


def timing(files: list[Path]) -> None:
    """CPU time of parse + model + free for both models, as the runner does it
    (collector paused during a file, one young-generation pass after it)."""
    import gc
    sources = []
    for p in files:
        try:
            s = read_source(p)
            parse(s)
        except (SyntaxError, RecursionError, ValueError):
            continue
        sources.append(s)

    def run(step) -> float:
        best = float("inf")
        for _ in range(2):
            t0 = time.process_time()
            for s in sources:
                step(s)
                gc.collect(0)
            best = min(best, time.process_time() - t0)
        return best

    def v2_closed(s):
        v2_model.build_model(parse(s), s).close()

    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        floor = run(parse_module)
        legacy = run(lambda s: legacy_model.build_model(parse_module(s), s))
        ast_parse = run(parse)
        v2 = run(lambda s: v2_model.build_model(parse(s), s))
        closed = run(v2_closed)
    finally:
        gc.enable()
    size = sum(len(s) for s in sources) / 1e6
    print(f"{len(sources)} files, {size:.1f} MB, CPU seconds (best of 2), collector as in the runner:")
    print(f"    libcst parse (the floor)          {floor:7.2f}")
    print(f"    legacy: libcst parse + model      {legacy:7.2f}   {legacy / floor:.2f}x the floor")
    print(f"    ast parse                         {ast_parse:7.2f}   {ast_parse / floor:.2f}x")
    print(f"    v2: ast parse + model             {v2:7.2f}   {v2 / floor:.2f}x  ({v2 / legacy:.2f}x legacy)")
    print(f"    v2 with model.close()             {closed:7.2f}   {closed / floor:.2f}x  ({closed / legacy:.2f}x legacy)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--keras", action="store_true", help="add the installed keras package's source")
    ap.add_argument("--show", type=int, default=3, help="facts shown per differing category and file")
    ap.add_argument("--timing", action="store_true")
    ap.add_argument("--legacy-worker", nargs=3, metavar=("DIR", "IN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.legacy_worker:
        legacy_worker(args.legacy_worker[1], args.legacy_worker[2])
        return 0
    files = expand(args.paths) if args.paths else default_corpus(args.keras)
    total, categories, differing = compare_many(files, args.show)
    print(f"{len(files)} files ({COMPARED['files']} parsed by both), {COMPARED['facts']} legacy facts; "
          f"{differing} files with differences, {total} differing facts")
    for c, n in categories.most_common():
        print(f"    {c}: {n}")
    if args.timing:
        if legacy_model is None:
            print("--timing needs the libcst model in this tree (kmlint/legacy)")
        else:
            timing(files)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
