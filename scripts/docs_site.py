"""The documentation site: Markdown sources generated from the README, the rule
dossiers (rules/<CODE>-<name>/) and the configuration code, built with MkDocs.

    python scripts/docs_site.py generate [--out build/docs-src]   # mkdocs.yml + docs/*.md
    python scripts/docs_site.py build [--out build/docs-src] [--site build/site]  # ... and mkdocs build --strict
    python scripts/docs_site.py serve [--out build/docs-src]      # ... and mkdocs serve

Pages: the README's introduction (home), one page per README section (usage,
fixing, configuration with a reference table generated from the config schema,
the integration guides: pre-commit, CI output formats, editors, runtime mode,
...), a rules index and one page per rule with its README, the dossier's
flagged / clean / fixed examples (with kmlint's own findings on the flagged one
and the diff of its fix) and its runtime scenario with what was measured. The
JSON schema of ``[tool.kmlint]`` is copied to the site root.  README links to
its own sections become links between pages; links to repository files point
at the repository (REPO_URL).  ``mkdocs build --strict`` with link and anchor
validation fails on any broken internal link.

Nothing here is published: the site's intended address is
kmlint.docs.DOCS_BASE_URL (a GitHub Pages address, not live yet).
Needs ``mkdocs`` and ``pymdown-extensions`` (in the ``test`` extra)."""

from __future__ import annotations

import argparse
import difflib
import json
import posixpath
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kmlint.config_schema import SCHEMA_PATH, SCHEMA_URL, key_table  # noqa: E402
from kmlint.docs import DOCS_BASE_URL, dossier_dir, rule_page  # noqa: E402

REPO_URL = "https://github.com/kmlint/kmlint"
BLOB = REPO_URL + "/blob/main/"
TREE = REPO_URL + "/tree/main/"

# README section -> (page, navigation group); other sections get a page of their own under "More"
SECTIONS = {
    "Installing": ("installing.md", "Use"),
    "Usage": ("usage.md", "Use"),
    "Fixing": ("fixing.md", "Use"),
    "Baseline": ("baseline.md", "Use"),
    "Suppressing findings": ("suppressing.md", "Use"),
    "Notebooks": ("notebooks.md", "Use"),
    "Configuration": ("configuration.md", "Use"),
    "Pre-commit": ("pre-commit.md", "Integrations"),
    "CI output formats": ("ci.md", "Integrations"),
    "Editors": ("editors.md", "Integrations"),
    "Runtime mode": ("runtime.md", "Integrations"),
    "Rules": ("rules/index.md", "Rules"),
}
GROUP_ORDER = ["Use", "Integrations", "Rules", "More"]
DOSSIER_FILES = {"bad.py": "flagged-badpy", "good.py": "not-flagged-goodpy",
                 "fixed.py": "fixed-fixedpy", "runtime.py": "runtime-scenario-runtimepy"}
FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"(!?\[[^\]\n]*\])\(([^)\s]+)\)")
LIST_ITEM = re.compile(r"^\s*([-*+]|[0-9]+\.)\s+\S")


def slugify(text: str) -> str:
    """The anchor MkDocs (Python-Markdown's toc extension) gives a heading."""
    from markdown.extensions.toc import slugify as toc_slugify

    text = re.sub(r"`([^`]*)`", r"\1", text)
    return toc_slugify(text, "-")


def outside_fences(text: str):
    """(line, in_code) for every line of a Markdown text."""
    in_code = False
    for line in text.split("\n"):
        if FENCE.match(line):
            yield line, True
            in_code = not in_code
        else:
            yield line, in_code


def headings(text: str) -> list[tuple[int, str]]:
    out = []
    for line, in_code in outside_fences(text):
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m and not in_code:
            out.append((len(m.group(1)), m.group(2)))
    return out


def python_markdown_lists(text: str) -> str:
    """Python-Markdown needs a blank line between a paragraph and a list
    (CommonMark does not); the README and dossiers are written for GitHub."""
    out: list[str] = []
    prev, prev_code = "", False
    for line, in_code in outside_fences(text):
        if (not in_code and not prev_code and LIST_ITEM.match(line) and prev.strip()
                and not LIST_ITEM.match(prev) and not prev.startswith(("  ", "\t", "|", "#"))):
            out.append("")
        out.append(line)
        prev, prev_code = line, in_code
    return "\n".join(out)


@dataclass
class Page:
    path: str  # relative to docs/
    title: str
    group: str
    text: str = ""
    source_dir: str = ""  # repository folder its relative links are relative to
    anchors: set = field(default_factory=set)


def split_readme(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The README's introduction (H1 removed) and its ``## `` sections."""
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line, in_code in outside_fences(text):
        if not in_code and line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
        elif not (not in_code and line.startswith("# ")):
            intro.append(line)
    return "\n".join(intro).strip() + "\n", [(t, "\n".join(b).strip() + "\n") for t, b in sections]


class Site:
    def __init__(self, root: Path = ROOT):
        from kmlint.registry import all_rules

        self.root = root
        self.rules = all_rules()
        self.pages: list[Page] = []
        self.anchor_page: dict[str, str] = {}  # README anchor -> page path
        self.readme = (root / "README.md").read_text(encoding="utf-8")

    # ------------------------------------------------------------------ links

    def rule_doc(self, dossier: str) -> str:
        return f"rules/{dossier}.md"

    def rewrite_link(self, target: str, page: Page) -> str:
        here = posixpath.dirname(page.path)

        def rel(doc: str, anchor: str = "") -> str:
            out = posixpath.relpath(doc, here or ".")
            return out + (f"#{anchor}" if anchor else "")

        if target.startswith("page:"):  # a link this script writes: docs-relative
            doc, _, anchor = target[5:].partition("#")
            return rel(doc, anchor)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            return target  # https:, mailto:

        if target.startswith("#"):
            anchor = target[1:]
            if anchor in page.anchors or page.source_dir.startswith("rules/"):
                return target
            doc = self.anchor_page.get(anchor)
            if doc is None:
                raise SystemExit(f"docs_site: {page.path}: no README heading has the anchor {target}")
            doc_page = next(p for p in self.pages if p.path == doc)
            return rel(doc) if slugify(doc_page.title) == anchor else rel(doc, anchor)
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(page.source_dir, path))
        m = re.match(r"^rules/(KM[0-9]+-[a-z0-9-]+)(?:/(.*))?$", repo_path)
        if m and (self.root / "rules" / m.group(1)).is_dir():
            name = m.group(2) or "README.md"
            if name == "README.md":
                return rel(self.rule_doc(m.group(1)), anchor)
            if name in DOSSIER_FILES:
                return rel(self.rule_doc(m.group(1)), DOSSIER_FILES[name])
        base = TREE if (self.root / repo_path).is_dir() else BLOB
        return base + repo_path + (f"#{anchor}" if anchor else "")

    def finish(self, page: Page) -> str:
        out = []
        for line, in_code in outside_fences(python_markdown_lists(page.text)):
            if not in_code:
                line = LINK.sub(lambda m: f"{m.group(1)}({self.rewrite_link(m.group(2), page)})", line)
            out.append(line)
        return "\n".join(out).rstrip() + "\n"

    # ------------------------------------------------------------------ pages

    def readme_pages(self) -> None:
        intro, sections = split_readme(self.readme)
        home = Page("index.md", "Home", "", source_dir="")
        self.pages.append(home)
        for title, body in sections:
            path, group = SECTIONS.get(title, (slugify(title) + ".md", "More"))
            page = Page(path, title, group, text=f"# {title}\n\n{body}", source_dir="")
            if title == "Configuration":
                page.text += "\n" + self.configuration_reference()
            if title == "Editors":
                page.text += "\n" + self.vscode_readme()
            if title == "Rules":
                page.text = (f"# Rules\n\nEvery rule has a page with its rationale, a flagged and a clean "
                             f"example from its dossier, its fix and, for the rules that runtime mode "
                             f"confirms, the scenario it runs and what was measured.\n\n{body}")
            self.pages.append(page)
        for page in self.pages:
            for _, text in headings(page.text):
                page.anchors.add(slugify(text))
                self.anchor_page.setdefault(slugify(text), page.path)
        n = len(self.rules)
        home.text = (f"# kmlint\n\n{intro}\n"
                     f"## Contents\n\n"
                     + "".join(f"- [{p.title}](page:{p.path})\n" for p in self.pages[1:])
                     + f"\nThe [rule pages](page:rules/index.md) document all {n} rules; the "
                     f"[configuration reference](page:configuration.md#reference) lists every key of "
                     f"`[tool.kmlint]`, and [kmlint.schema.json](page:kmlint.schema.json) is its JSON schema.\n")
        for _, text in headings(home.text):
            home.anchors.add(slugify(text))

    def vscode_readme(self) -> str:
        p = self.root / "editors" / "vscode" / "README.md"
        if not p.is_file():
            return ""
        text = p.read_text(encoding="utf-8")
        body = text.split("\n", 1)[1] if text.startswith("# ") else text
        body = re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", body, flags=re.MULTILINE)
        # relative links in it are relative to editors/vscode: make them absolute now
        body = LINK.sub(lambda m: m.group(0) if re.match(r"^([a-z]+:|#)", m.group(2))
                        else f"{m.group(1)}({BLOB}editors/vscode/{m.group(2)})", body)
        return f"### The VS Code extension (editors/vscode)\n\n{body.strip()}\n"

    def configuration_reference(self) -> str:
        lines = ["## Reference", "",
                 "Every key of `[tool.kmlint]` (or of a `kmlint.toml`), generated from kmlint's "
                 "configuration code:", "",
                 "| key | type | default | meaning |", "|---|---|---|---|"]
        for row in key_table():
            default = "" if row["default"] is None else f"`{json.dumps(row['default'])}`"
            desc = row["description"].replace("|", "\\|")
            lines.append(f"| `{row['key']}` | {self.type_words(row['schema'])} | {default} | {desc} |")
        lines += ["", "## JSON schema", "",
                  f"[kmlint.schema.json](page:kmlint.schema.json) (`{SCHEMA_URL}` once the site is published) "
                  "describes `[tool.kmlint]` and the top level of `kmlint.toml`: every key with its type, "
                  "default and meaning, and the rule codes and names `select`/`ignore` accept. It ships in "
                  "the package too (`python -c \"import kmlint.config_schema as s; print(s.SCHEMA_PATH)\"` "
                  "prints its path).", "",
                  "With Taplo (the *Even Better TOML* extension in VS Code, or `taplo lint`), a "
                  "`kmlint.toml` gets completion and checking from its first line:", "",
                  "```toml", f"#:schema {SCHEMA_URL}", 'select = ["KM1", "KM2"]', "```", "",
                  "or from the editor's settings, with the shipped file:", "",
                  "```jsonc", "{", '  "evenBetterToml.schema.associations": {',
                  '    ".*kmlint\\\\.toml$": "file:///path/to/site-packages/kmlint/kmlint.schema.json"',
                  "  }", "}", "```", "",
                  "Inside `pyproject.toml`, Taplo takes the `[tool.*]` tables' schemas from the "
                  "SchemaStore catalogue; kmlint's is not registered there (that is a publishing step).", ""]
        return "\n".join(lines)

    @staticmethod
    def type_words(schema: dict) -> str:
        if schema.get("$ref") == "#/definitions/size":
            return "size (bytes or `\"100MB\"`)"
        t = schema.get("type")
        if t == "array":
            items = schema["items"]
            return "list of rule selectors" if items.get("$ref") == "#/definitions/selector" else "list of strings"
        if t == "object":
            return "table: glob = list of rule selectors"
        if t == "integer":
            return "integer >= 0"
        if t == "string" and "enum" in schema:
            return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
        return {"boolean": "boolean", "string": "string"}.get(t, str(t))

    def rule_pages(self) -> None:
        from kmlint.config import Settings
        from kmlint.engine.linter import lint_text

        measured = self.measured_rows()
        for rule in self.rules:
            d = dossier_dir(rule)
            dossier = d.name
            text = (d / "README.md").read_text(encoding="utf-8").rstrip() + "\n"
            facts = [f"code `{rule.code}`", f"name `{rule.name}`", f"severity {rule.severity}",
                     f"fix: {rule.fixable or 'none'}", "runtime-confirmable" if rule.confirmable else "static only"]
            if rule.preview:
                facts.append("preview")
            title, _, rest = text.partition("\n")
            parts = [title, "", "*" + " · ".join(facts) + "*", "", rest.strip(), "", "## Examples from the dossier", "",
                     f"The dossier [`rules/{dossier}/`]({TREE}rules/{dossier}) holds the test cases: "
                     "`bad.py` must be flagged exactly on its `# expect:` lines, `good.py` (look-alikes) "
                     "must not be, and `fixed.py` is `kmlint check --fix --unsafe-fixes` of `bad.py`."]
            select = ["ALL"] if rule.code == "KM900" else [rule.code]
            for name in ("bad.py", "good.py", "fixed.py"):
                p = d / name
                if not p.is_file():
                    continue
                source = p.read_text(encoding="utf-8")
                heading = {"bad.py": "Flagged (bad.py)", "good.py": "Not flagged (good.py)",
                           "fixed.py": "Fixed (fixed.py)"}[name]
                parts += ["", f"### {heading}", "", fence(source, "python")]
                if name == "bad.py":
                    result = lint_text(source, f"rules/{dossier}/bad.py", Settings(select=select, preview=True))
                    found = [f for f in result.findings if f.code == rule.code]
                    lines = [f"bad.py:{f.line}:{f.column}: {f.code}{' [*]' if f.fix and f.fix.applicability == 'safe' else ''}"
                             f" [{f.name}] {f.message}" for f in found]
                    parts += ["", f"`kmlint check --select {select[0]} bad.py` reports "
                              f"{len(found)} finding{'s' if len(found) != 1 else ''}:", "",
                              fence("\n".join(lines) + "\n", "text")]
                if name == "fixed.py":
                    bad = (d / "bad.py").read_text(encoding="utf-8").splitlines(keepends=True)
                    diff = "".join(difflib.unified_diff(bad, source.splitlines(keepends=True), "bad.py", "fixed.py"))
                    parts += ["", "The fix, as a diff of the two files:", "", fence(diff, "diff")]
            runtime = d / "runtime.py"
            if runtime.is_file():
                parts += ["", "## Runtime scenario (runtime.py)", "",
                          "What `kmlint check --runtime` runs when your own code cannot run here: a small "
                          "flagged (`bad`) and fixed variant, measured side by side "
                          "(see [runtime mode](page:runtime.md))."]
                if rule.code in measured:
                    header, row = measured[rule.code]
                    parts += ["", "Measured (from the README's scenario table):", "", header, row]
                parts += ["", fence(runtime.read_text(encoding="utf-8"), "python")]
            page = Page(self.rule_doc(dossier), f"{rule.code} {rule.name}", "Rules",
                        text="\n".join(parts), source_dir=f"rules/{dossier}")
            for _, h in headings(page.text):
                page.anchors.add(slugify(h))
            self.pages.append(page)

    def measured_rows(self) -> dict[str, tuple[str, str]]:
        """The README's table of scenario measurements (rule, metric, bad, fixed, margin), by rule."""
        out = {}
        lines = self.readme.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("| rule | metric |"):
                header = line + "\n" + lines[i + 1]
                for row in lines[i + 2:]:
                    if not row.startswith("|"):
                        break
                    m = re.match(r"^\| (KM[0-9]{3})\b", row)
                    if m:
                        out[m.group(1)] = (header, row)
        return out

    # ------------------------------------------------------------------ output

    def write(self, out: Path) -> Path:
        self.readme_pages()
        self.rule_pages()
        docs = out / "docs"
        if docs.exists():
            shutil.rmtree(docs)
        (docs / "rules").mkdir(parents=True)
        for page in self.pages:
            (docs / page.path).write_text(self.finish(page), encoding="utf-8")
        shutil.copyfile(SCHEMA_PATH, docs / SCHEMA_PATH.name)
        (out / "mkdocs.yml").write_text(self.mkdocs_yml(), encoding="utf-8")
        return out / "mkdocs.yml"

    def mkdocs_yml(self) -> str:
        nav: list = [{"Home": "index.md"}]
        for group in GROUP_ORDER:
            entries = [{p.title: p.path} for p in self.pages if p.group == group]
            if entries:
                nav.append({group: entries})
        config = {
            "site_name": "kmlint",
            "site_description": "Memory anti-patterns in TensorFlow/Keras code",
            "site_url": DOCS_BASE_URL,
            "repo_url": REPO_URL,
            "edit_uri": "",
            "docs_dir": "docs",
            "theme": {"name": "mkdocs", "highlightjs": False,
                      "navigation_depth": 3},
            "use_directory_urls": True,
            # superfences: code blocks inside list items (the VS Code README's setup steps)
            # (no Pygments: the theme has no styles for it, and code stays searchable text)
            "markdown_extensions": ["toc", "tables", "sane_lists", "pymdownx.superfences",
                                    {"pymdownx.highlight": {"use_pygments": False}}],
            "plugins": ["search"],
            "validation": {
                "omitted_files": "warn", "absolute_links": "warn", "unrecognized_links": "warn",
                "anchors": "warn", "nav": {"not_found": "warn"},
            },
            "nav": nav,
        }
        # YAML is a superset of JSON: no YAML writer needed
        return "# generated by scripts/docs_site.py\n" + json.dumps(config, indent=2) + "\n"


def fence(text: str, lang: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def generate(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return Site().write(out)


def build(out: Path, site: Path) -> None:
    config = generate(out)
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "-f", str(config), "-d", str(site.resolve())]
    subprocess.run(cmd, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["generate", "build", "serve"])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "docs-src", help="where the Markdown sources go")
    parser.add_argument("--site", type=Path, default=ROOT / "build" / "site", help="where the HTML site goes")
    args = parser.parse_args()
    if args.command == "generate":
        print(generate(args.out))
    elif args.command == "build":
        try:
            build(args.out, args.site)
        except subprocess.CalledProcessError as e:
            sys.exit(f"docs_site.py: mkdocs build failed (exit {e.returncode})")
        print(args.site / "index.html")
    else:
        config = generate(args.out)
        subprocess.run([sys.executable, "-m", "mkdocs", "serve", "-f", str(config)], check=False)


if __name__ == "__main__":
    main()
