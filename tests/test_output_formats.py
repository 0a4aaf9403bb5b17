"""CI output formats through the CLI: sarif (validated against the official
SARIF 2.1.0 schema), github, gitlab, junit, and --output-file."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from kmlint.docs import rule_url
from kmlint.registry import all_rules, get_rule
from tests.helpers import ROOT, run_cli

SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"

TRAIN = (
    "from keras.preprocessing.image import ImageDataGenerator\n"
    "gen = ImageDataGenerator(rescale=1 / 255)\n"
    "model.fit_generator(gen, steps_per_epoch=10)\n"
    "x = 1  # noqa: KM201\n"
)
NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# nb"]},
        {"cell_type": "code", "execution_count": None, "id": "b", "metadata": {}, "outputs": [],
         "source": ["import numpy as np\n", "model.evaluate_generator(gen)"]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "explore.ipynb").write_text(json.dumps(NOTEBOOK, indent=1))
    (tmp_path / "clean.py").write_text("model.fit(gen)\n")
    return tmp_path


def _check(project, fmt, *extra):
    r = run_cli("check", "--no-cache", "--output-format", fmt, *extra, "train.py", "explore.ipynb", "clean.py",
                cwd=project)
    assert r.returncode == 1, r.stderr
    return r


def test_vendored_schema_is_the_unmodified_official_file():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_sarif_is_valid_sarif_2_1_0_with_rules_regions_and_fixes(project):
    out = project / "report.sarif"
    r = _check(project, "sarif", "--output-file", str(out))
    assert r.stdout == ""  # the report went to the file
    log = json.loads(out.read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker()).validate(log)

    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [d["id"] for d in rules] == [r.code for r in all_rules()]
    km201 = rules[[d["id"] for d in rules].index("KM201")]
    assert km201["helpUri"] == rule_url(get_rule("KM201"))
    assert km201["help"]["markdown"].startswith("# deprecated-generator-api (KM201)")
    assert km201["shortDescription"]["text"] == get_rule("KM201").summary

    results = {(res["ruleId"], res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): res
               for res in run["results"]}
    assert set(results) == {("KM201", "train.py"), ("KM206", "train.py"), ("KM900", "train.py"),
                            ("KM201", "explore.ipynb")}
    fit = results["KM201", "train.py"]
    assert rules[fit["ruleIndex"]]["id"] == "KM201"
    assert fit["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3, "startColumn": 7, "endLine": 3, "endColumn": 20}
    change = fit["fixes"][0]["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "train.py"
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 3, "startColumn": 7, "endLine": 3, "endColumn": 20},
        "insertedContent": {"text": "fit"}}]  # engine v2 fix edits are exact spans
    noqa = results["KM900", "train.py"]["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert noqa == {"deletedRegion": {"startLine": 4, "startColumn": 6, "endLine": 4, "endColumn": 21},
                    "insertedContent": {"text": ""}}
    # notebook: region within the cell, the cell index as a location property, no artifactChange
    nb = results["KM201", "explore.ipynb"]
    assert nb["locations"][0]["properties"] == {"cell": 1}
    assert nb["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert "fixes" not in nb
    assert "KM206" not in {d["ruleId"] for d in run["results"] if "fixes" in d}


def test_github_annotations(project):
    r = _check(project, "github")
    lines = r.stdout.splitlines()
    assert "::warning file=train.py,line=3,col=7,endLine=3,endColumn=20,title=kmlint KM201 " \
           "(deprecated-generator-api)::KM201 `fit_generator` is deprecated since TF 2.1 and removed in Keras 3 " \
           "(AttributeError); use `fit`" in lines
    nb = [line for line in lines if "explore.ipynb" in line]
    assert nb == ["::warning file=explore.ipynb,title=kmlint KM201 (deprecated-generator-api)::cell 2, line 2, "
                  "col 7: KM201 `evaluate_generator` is deprecated since TF 2.1 and removed in Keras 3 "
                  "(AttributeError); use `evaluate`"]
    assert len(lines) == 4


def test_github_escapes_workflow_command_metacharacters():
    from kmlint.findings import Finding
    from kmlint.output.github import render_github

    f = Finding("KM201", "n", "50% done\nnext: a,b", "dir,x/a:b.py", 1, 1, 1, 2)
    assert render_github([f], {}) == "::warning file=dir%2Cx/a%3Ab.py,line=1,col=1,endLine=1,endColumn=2," \
                                     "title=kmlint KM201 (n)::KM201 50%25 done%0Anext: a,b\n"


def test_gitlab_code_quality_report(project):
    issues = json.loads(_check(project, "gitlab").stdout)
    assert len(issues) == 4
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert len({i["fingerprint"] for i in issues}) == 4
    fit = [i for i in issues if i["check_name"] == "KM201" and i["location"]["path"] == "train.py"][0]
    assert fit["location"]["lines"] == {"begin": 3, "end": 3}
    assert fit["description"].startswith("KM201 [deprecated-generator-api] `fit_generator`")
    # the fingerprint survives code inserted above
    (project / "train.py").write_text("import os\n\n" + TRAIN)
    moved = [i for i in json.loads(_check(project, "gitlab").stdout)
             if i["check_name"] == "KM201" and i["location"]["path"] == "train.py"][0]
    assert moved["location"]["lines"]["begin"] == 5
    assert moved["fingerprint"] == fit["fingerprint"]


def test_junit_report(project):
    root = ET.fromstring(_check(project, "junit").stdout)
    assert root.tag == "testsuites" and root.get("failures") == "4"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"train.py", "explore.ipynb"}
    cases = suites["train.py"].findall("testcase")
    assert len(cases) == 3
    failure = [c for c in cases if c.get("name").startswith("KM201")][0].find("failure")
    assert failure.get("type") == "KM201"
    assert failure.text.startswith("train.py:3:7: KM201")
    r = run_cli("check", "--no-cache", "--output-format", "junit", "clean.py", cwd=project)
    assert r.returncode == 0
    clean = ET.fromstring(r.stdout)
    assert clean.get("failures") == "0" and len(clean.findall("testsuite/testcase")) == 1


def test_output_file_for_text_and_unwritable_target(project):
    r = _check(project, "text", "--output-file", "report.txt")
    assert r.stdout == ""
    assert "train.py:3:7: KM201" in (project / "report.txt").read_text()
    r = run_cli("check", "--no-cache", "--output-file", str(project / "missing" / "r.txt"), "train.py", cwd=project)
    assert r.returncode == 2 and "cannot write" in r.stderr
