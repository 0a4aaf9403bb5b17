"""JUnit XML: one test suite per file with findings, one failing test case
per finding (a clean run is one passing case), for CI systems that only read
test reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from kmlint.engine.paths import printable
from kmlint.findings import Finding
from kmlint.output.text import format_finding


def render_junit(findings: list[Finding], info) -> str:
    root = ET.Element("testsuites", name="kmlint", tests=str(max(len(findings), 1)),
                      failures=str(len(findings)), errors="0")
    if not findings:
        suite = ET.SubElement(root, "testsuite", name="kmlint", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="no findings", classname="kmlint")
    for path, group in groupby(findings, key=lambda f: printable(f.path)):
        group = list(group)
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(len(group)), failures=str(len(group)), errors="0")
        for f in group:
            where = f"cell {f.cell + 1}:line {f.line}:col {f.column}" if f.cell is not None else f"{f.line}:{f.column}"
            case = ET.SubElement(suite, "testcase", name=f"{f.code} ({f.name}) at {where}", classname=path,
                                 file=path, line=str(f.line))
            failure = ET.SubElement(case, "failure", message=f.message, type=f.code)
            failure.text = format_finding(f)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
