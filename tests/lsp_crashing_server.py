"""``kmlint server`` with a rule that always crashes and an engine that
crashes on buffers containing ENGINE_CRASH (tests/test_lsp.py checks that the
server logs both and goes on)."""

from kmlint.checks.km201_deprecated_generator_api import DeprecatedGeneratorApi
from kmlint.lsp import server


def crash(self, call, ctx):
    raise RuntimeError("rule bug for the test")


real_lint_text = server.lint_text


def lint_text(text, path, settings, **kwargs):
    if "ENGINE_CRASH" in text:
        raise RuntimeError("engine bug for the test")
    return real_lint_text(text, path, settings, **kwargs)


DeprecatedGeneratorApi.check_call = crash
server.lint_text = lint_text
server.main()
