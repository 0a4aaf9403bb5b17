"""Rule documentation: the dossiers in ``rules/<CODE>-<name>/``.

Installed wheels carry them as ``kmlint/_rules`` (see pyproject.toml); a source
checkout reads the top-level ``rules/`` folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

# Where the documentation site (scripts/docs_site.py, MkDocs) is meant to be
# served: a GitHub Pages address of the project.  It is NOT published yet; the
# site builds locally with `python scripts/docs_site.py build`.  Each rule has
# a page at rules/<CODE>-<name>/ there (SARIF helpUri, LSP codeDescription).
DOCS_BASE_URL = "https://kmlint.github.io/kmlint/"


def dossier_root() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    if packaged.is_dir():
        return packaged
    return here.parent / "rules"


def dossier_dir(rule) -> Path:
    return dossier_root() / f"{rule.code}-{rule.name}"


def rule_readme(rule) -> Optional[str]:
    p = dossier_dir(rule) / "README.md"
    try:
        return p.read_text(encoding="utf-8")
    except OSError:
        return None


def readme_sections(text: str) -> dict[str, str]:
    """A dossier README's ``## Title`` sections, title -> body (stripped)."""
    sections: dict[str, str] = {}
    title = None
    body: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if line.startswith("## ") and not in_code:
            if title is not None:
                sections[title] = "\n".join(body).strip()
            title, body = line[3:].strip(), []
        elif title is not None:
            body.append(line)
    if title is not None:
        sections[title] = "\n".join(body).strip()
    return sections


def rule_page(rule) -> str:
    """The rule's page on the docs site, relative to the site's root."""
    return f"rules/{rule.code}-{rule.name}/"


def rule_url(rule) -> str:
    return DOCS_BASE_URL + rule_page(rule)


def rules_table() -> str:
    """The README's rule table (kept in sync by tests/test_docs.py)."""
    from kmlint.registry import all_rules

    lines = ["| code | name | fix | runtime | summary |", "|---|---|---|---|---|"]
    for r in all_rules():
        link = f"[{r.name}](rules/{r.code}-{r.name}/README.md)"
        summary = r.summary.replace("|", "\\|")
        lines.append(f"| {r.code} | {link} | {r.fixable or ''} | {'yes' if r.confirmable else ''} | {summary} |")
    return "\n".join(lines) + "\n"


def update_readme(path: Path) -> bool:
    """Rewrite the table between the rules-table markers; True if changed."""
    text = path.read_text(encoding="utf-8")
    start, end = "<!-- rules-table:start -->\n", "<!-- rules-table:end -->"
    i, j = text.index(start) + len(start), text.index(end)
    new = text[:i] + rules_table() + text[j:]
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


CATALOG_FIELDS = ("code", "name", "summary", "fixable", "confirmable", "preview", "severity",
                  "tokens", "requires", "calls")


def catalog_source() -> str:
    """The text of kmlint/catalog.py: every rule's metadata and prefilter
    attributes, read from the rule classes (tests/test_catalog.py keeps the
    two in sync; ``python -m kmlint.docs`` regenerates it)."""
    from kmlint.registry import all_rules

    out = ['"""Rule metadata, generated from the rule classes by `python -m kmlint.docs`',
           "(tests/test_catalog.py fails when it is stale).",
           "",
           "Listing and selecting rules, output formats, the cache key and the gate",
           "before the model (tokens, requires) read this table, so they never import",
           'rule code; a rule module is imported when a file needs the rule."""',
           "",
           "from kmlint.registry import RuleMeta",
           "",
           "RULES = ("]
    for r in all_rules():
        values = {f: getattr(r, f) for f in CATALOG_FIELDS}
        values["calls"] = tuple(sorted(values["calls"]))
        values["tokens"] = tuple(sorted(values["tokens"]))  # some rules build them from sets
        values["module"] = r.__module__.rsplit(".", 1)[-1]
        args = ", ".join(f"{k}={v!r}" for k, v in values.items())
        out.append(f"    RuleMeta({args}),")
    out.append(")")
    return "\n".join(out) + "\n"


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to a generated file unless it already holds it; True when written."""
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        old = None
    if old != text:
        path.write_text(text, encoding="utf-8")
        return True
    return False


def update_catalog(path: Path) -> bool:
    return write_if_changed(path, catalog_source())


if __name__ == "__main__":  # python -m kmlint.docs  -> refresh README.md's rule table, kmlint/catalog.py
    import sys                # and kmlint/kmlint.schema.json

    from kmlint.config_schema import SCHEMA_PATH, update_schema

    changed = update_readme(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
    print("README.md updated" if changed else "README.md already up to date")
    changed = update_catalog(Path(__file__).with_name("catalog.py"))
    print("kmlint/catalog.py updated" if changed else "kmlint/catalog.py already up to date")
    changed = update_schema(SCHEMA_PATH)
    print("kmlint/kmlint.schema.json updated" if changed else "kmlint/kmlint.schema.json already up to date")
