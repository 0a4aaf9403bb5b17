"""The documentation site (scripts/docs_site.py): generated from the README,
the rule dossiers and the config schema, built by the real MkDocs with
``--strict`` (links and anchors validated), then looked at in a real headless
Chromium (Playwright) served from localhost: the index and a rule page are
rendered, screenshotted and show their content, navigation and search work.

Chromium comes from the system (Debian's ``chromium``; the README's test
command installs it when missing). Without it the browser test is skipped,
except in CI (``CI`` set), where it fails."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kmlint.config import KEYS
from kmlint.config_schema import SCHEMA_PATH
from kmlint.docs import DOCS_BASE_URL, rule_page, rule_url
from kmlint.registry import all_rules, get_rule
from tests.helpers import ROOT

pytest.importorskip("mkdocs")

SCRIPT = ROOT / "scripts" / "docs_site.py"
RULES = all_rules()
BROWSER_RULE = "KM301"


def _build(src: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "build", "--out", str(src), "--site", str(site)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("docs")
    r = _build(base / "src", base / "site")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return base / "src", base / "site"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_rule_has_a_page_at_its_documented_url(built):
    _, site = built
    for rule in RULES:
        page = site / rule_page(rule) / "index.html"
        assert page.is_file(), rule.code
        html = page.read_text(encoding="utf-8")
        assert f"{rule.name} ({rule.code})" in html
        assert "What it does" in html and "Why is this bad?" in html
        # the dossier's flagged example, with kmlint's own findings on it
        assert "Flagged (bad.py)" in html and f": {rule.code}" in _text(html)
        if rule.fixable and (ROOT / "rules" / f"{rule.code}-{rule.name}" / "fixed.py").is_file():
            assert "Fixed (fixed.py)" in html and "+++ fixed.py" in html
        if rule.confirmable:
            assert "Runtime scenario (runtime.py)" in html and "def bad(" in html
    assert rule_url(get_rule("KM201")) == DOCS_BASE_URL + "rules/KM201-deprecated-generator-api/"


def test_rule_pages_carry_the_measured_scenario_rows(built):
    _, site = built
    html = (site / rule_page(get_rule("KM301")) / "index.html").read_text(encoding="utf-8")
    assert "Measured (from the README" in html and "tensor bytes" in html


def test_configuration_reference_lists_every_key_and_the_schema_is_served(built):
    _, site = built
    html = (site / "configuration" / "index.html").read_text(encoding="utf-8")
    ref = html.split('id="reference"', 1)[1]
    for key in [*KEYS, "extend"]:
        assert f"<code>{key}</code>" in ref, key
    served = json.loads((site / "kmlint.schema.json").read_text(encoding="utf-8"))
    assert served == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page,needles", [
    ("pre-commit", ["rev:", "kmlint-fix"]),
    ("ci", ["sarif", "gitlab", "junit", "upload-sarif"]),
    ("editors", ["kmlint server", "nvim-lspconfig", "The VS Code extension", "kmlint.run"]),
    ("runtime", ["--runtime", "Safety model"]),
])
def test_integration_guides(built, page, needles):
    _, site = built
    html = (site / page / "index.html").read_text(encoding="utf-8")
    for needle in needles:
        assert needle in html, (page, needle)


def test_readme_links_between_sections_become_links_between_pages(built):
    src, site = built
    index = (src / "docs" / "index.md").read_text(encoding="utf-8")
    assert "(engine.md)" in index  # README: [Engine](#engine)
    rules_index = (src / "docs" / "rules" / "index.md").read_text(encoding="utf-8")
    assert "(KM201-deprecated-generator-api.md)" in rules_index
    # links into the repository (not pages) point at it, absolute
    for md in (src / "docs").rglob("*.md"):
        for target in re.findall(r"\]\(([^)\s]+)\)", md.read_text(encoding="utf-8")):
            assert not target.endswith((".py", "README.md")) or target.startswith("https://"), (md.name, target)


def test_strict_build_fails_on_a_broken_link(built, tmp_path):
    src, _ = built
    copy = tmp_path / "src"
    shutil.copytree(src, copy)
    page = copy / "docs" / "fixing.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nSee [usage](usage.md#no-such-anchor).\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(copy / "mkdocs.yml"),
                        "-d", str(tmp_path / "site")], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "no-such-anchor" in r.stderr


# ----------------------------------------------------------------- in a real browser


def _chromium() -> str | None:
    for name in (os.environ.get("KMLINT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(built):
    _, site = built
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _ink(png: Path, box: dict) -> tuple[int, int]:
    """(distinct grey levels, dark pixels) inside a box of a screenshot: text
    rendered there has many of both; an empty or failed render has none."""
    from PIL import Image

    with Image.open(png) as img:
        crop = img.convert("L").crop((int(box["x"]), int(box["y"]),
                                      int(box["x"] + box["width"]), int(box["y"] + box["height"])))
        histogram = crop.histogram()  # 256 grey levels
    return sum(1 for n in histogram if n), sum(histogram[:128])


def test_index_and_rule_page_in_headless_chromium(served, tmp_path):
    pytest.importorskip("PIL")  # reads the screenshots (Pillow comes with matplotlib, the runtime extra)
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if chromium is None or sync_playwright is None:
        missing = "chromium" if chromium is None else "the playwright package"
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is missing in CI (the README's test command installs it)")
        pytest.skip(f"needs {missing}")
    rule = get_rule(BROWSER_RULE)
    shots = Path(os.environ.get("KMLINT_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True,
            viewport={"width": 1280, "height": 1000},
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.url.startswith(served) and r.status >= 400 else None)

            # the index
            page.goto(served, wait_until="load")
            assert page.title().startswith("kmlint")
            h1 = page.locator("h1").first
            assert h1.inner_text().strip() == "kmlint" and h1.is_visible()
            assert "memory anti-patterns" in page.locator("body").inner_text()
            index_png = shots / "index.png"
            page.screenshot(path=str(index_png))
            index_h1 = h1.bounding_box()

            # from the index to the rule index, to the rule's page, by clicking links
            page.locator("main, div[role=main], .col-md-9").first.get_by_role("link", name="rule pages").click()
            page.wait_for_load_state("load")
            assert page.url == served + "rules/"
            page.get_by_role("link", name=rule.name, exact=True).first.click()
            page.wait_for_load_state("load")
            assert page.url == served + rule_page(rule)
            h1 = page.locator("h1").first
            assert h1.inner_text().strip() == f"{rule.name} ({rule.code})" and h1.is_visible()
            body = page.locator("body").inner_text()
            for needle in ("What it does", "Why is this bad?", "Flagged (bad.py)", "Runtime scenario"):
                assert needle in body, needle
            rule_png = shots / f"{rule.code}.png"
            page.screenshot(path=str(rule_png))
            rule_h1 = h1.bounding_box()

            # search (MkDocs' JavaScript index, searched as one types) finds a rule by a word
            page.goto(served, wait_until="load")
            page.get_by_role("link", name="Search").first.click()
            box = page.locator("#mkdocs-search-query")
            box.wait_for(state="visible", timeout=10_000)
            result = page.locator("#mkdocs-search-results a", has_text="KM402")
            for _ in range(10):  # keystrokes before the index is built (in a web worker) find nothing
                box.fill("")
                box.press_sequentially("retracing")
                try:
                    result.first.wait_for(state="visible", timeout=2_000)
                    break
                except Exception:
                    continue
            assert result.first.is_visible()
        finally:
            context.close()
    assert errors == []
    for png, box in ((index_png, index_h1), (rule_png, rule_h1)):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, png
        assert box is not None and box["y"] < 1000 and box["width"] > 50
        levels, dark = _ink(png, box)
        assert levels > 8 and dark > 100, (png, levels, dark)


def test_sarif_help_uris_lead_to_the_rule_pages(built, tmp_path):
    """helpUri (SARIF) and codeDescription.href (LSP) are rule_url(): with the
    site's address taken off, each names a page of the built site."""
    _, site = built
    r = subprocess.run([sys.executable, "-m", "kmlint", "check", "--no-cache", "--output-format", "sarif",
                        str(ROOT / "fixtures" / "demo")], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 1, r.stderr
    rules = json.loads(r.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) == len(RULES)
    for entry in rules:
        assert entry["helpUri"].startswith(DOCS_BASE_URL)
        page = site / entry["helpUri"][len(DOCS_BASE_URL):] / "index.html"
        assert page.is_file(), entry["helpUri"]
        assert f"({entry['id']})" in page.read_text(encoding="utf-8")
