"""libcst, for one question only: is a file CPython rejects valid Python of a
newer version?

kmlint analyses CPython's ``ast`` (kmlint/syntax).  When this interpreter's
parser rejects a file, libcst's parser, which reads the grammar of newer
Pythons (3.12's ``type`` statements, PEP 695 generics, ...), tells a real
syntax error (KM901) from code that is merely newer than the running Python;
such a file is linted with the statements CPython cannot read blanked.  Only
then is libcst imported.
"""

from __future__ import annotations

import libcst as cst

ParserSyntaxError = cst.ParserSyntaxError


def parse_module(source: str) -> cst.Module:
    return cst.parse_module(source)
