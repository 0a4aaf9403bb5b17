from tests.helpers import codes, lint

BAD = "model.fit_generator(g)"


def test_noqa_forms():
    assert codes(f"{BAD}  # noqa\n") == []
    assert codes(f"{BAD}  # noqa: KM201\n") == []
    assert codes(f"{BAD}  # noqa:KM201,KM205\n") == [(1, "KM900")]
    assert codes(f"{BAD}  # NOQA: KM201\n") == []
    assert codes(f"{BAD}  # kmlint: ignore[KM201]\n") == []
    assert codes(f"{BAD}  # noqa: KM206\n") == [(1, "KM201"), (1, "KM900")]


def test_noqa_on_last_line_of_multiline_statement():
    src = "model.fit_generator(\n    g,\n)\n"
    assert codes(src) == [(1, "KM201")]
    found = lint("x = model.fit_generator(g,\n  steps_per_epoch=3)  # noqa: KM201\n")
    assert found == [] or [f.code for f in found] == ["KM900"]


def test_skip_file():
    assert codes(f"# kmlint: skip-file\n{BAD}\n") == []
    assert codes(f"s = '# kmlint: skip-file'\n{BAD}\n") == [(2, "KM201")]


def test_unused_suppressions():
    assert codes("x = 1  # noqa: KM201\n") == [(1, "KM900")]
    assert codes("x = 1  # kmlint: ignore[KM203]\n") == [(1, "KM900")]
    assert codes("x = 1  # kmlint: ignore\n") == [(1, "KM900")]
    # another linter's codes and blanket noqa are not ours to judge
    assert codes("x = 1  # noqa: E501\n") == []
    assert codes("x = 1  # noqa\n") == []
    # a noqa inside a string is not a comment
    assert codes("s = '# noqa: KM201'\n") == []


def test_unused_suppression_fix_edits():
    f = [f for f in lint("x = 1  # noqa: KM201\n") if f.code == "KM900"][0]
    assert f.fix is not None and f.fix.applicability == "safe"
    e = f.fix.edits[0]
    # the comment goes with the spaces before it: no trailing whitespace is left
    assert (e.line, e.column, e.end_column, e.content) == (1, 6, 21, "")
    f = [f for f in lint(f"{BAD}  # noqa: KM201, KM205\n") if f.code == "KM900"][0]
    assert f.message == "Unused suppression for KM205"
    assert f.fix.edits[0].content == "# noqa: KM201"


def test_removing_a_directive_that_opens_a_longer_comment_keeps_the_rest_a_comment():
    """Found by the fuzzer (CI, 12-05): `# noqa: KM999 ~# note` lost its `#` with the
    directive, and `~# note` was left as code; the fixer refused its own edit."""
    from kmlint.fixer import fix_source
    from kmlint.config import Settings

    cases = {"x = 1  # noqa: KM201 ~# see the notes\n": "x = 1  # ~# see the notes\n",
             "x = 1  # kmlint: ignore[KM201] because\n": "x = 1  # because\n",
             # the next comment takes the directive's place, with the line's own spacing
             "x = 1  # noqa: KM201  # see the notes\n": "x = 1  # see the notes\n",
             "x = 1  # kmlint: ignore[KM201] # why\n": "x = 1  # why\n",
             # a directive that ends a longer comment leaves no `#` behind
             "x = 1  # type: ignore  # noqa: KM201\n": "x = 1  # type: ignore\n",
             "x = 1  # type: ignore # kmlint: ignore[KM201] # x\n": "x = 1  # type: ignore # x\n",
             "x = 1  # noqa: KM201\n": "x = 1\n"}
    for source, expected in cases.items():
        fixed = fix_source("import keras\n" + source, "a.py", Settings())
        assert fixed.error is None and fixed.text == "import keras\n" + expected, (source, fixed.error, fixed.text)


def test_km900_can_be_disabled():
    assert codes("x = 1  # noqa: KM201\n", ignore=["KM900"]) == []
