"""libcst's parse without re-validating every node its own parser built.

Each libcst node checks its fields when it is constructed
(``CSTNode.__post_init__`` calls ``_validate``): useful for trees built by
hand, redundant for the parser's output, and 15% of a parse (libcst's source
says as much next to that call).  ``parse_module`` switches the check off
for the duration of one parse; nodes built anywhere else (fixes) are still
validated.  A worker process lints one file at a time, so no other thread
builds nodes meanwhile.
"""

from __future__ import annotations

import threading

import libcst as cst
from libcst._nodes.base import CSTNode

ParserSyntaxError = cst.ParserSyntaxError
_lock = threading.Lock()
_validating_post_init = CSTNode.__post_init__


def _skip_validation(self) -> None:
    pass


def parse_module(source: str) -> cst.Module:
    with _lock:  # another thread parsing at the same time must not restore the check mid-parse
        CSTNode.__post_init__ = _skip_validation  # type: ignore[method-assign]
        try:
            return cst.parse_module(source)
        finally:
            CSTNode.__post_init__ = _validating_post_init  # type: ignore[method-assign]
