"""``kmlint server`` with a rule that always crashes and an engine that
crashes on buffers containing ENGINE_CRASH (tests/test_lsp.py checks that the
server logs both and goes on).  The patches are made at import, so they also
apply in the lint worker (a spawned process imports this module first)."""

from kmlint.checks.km201_deprecated_generator_api import DeprecatedGeneratorApi
from kmlint.lsp import server, worker


def crash(self, call, ctx):
    raise RuntimeError("rule bug for the test")


real_lint_text = worker.lint_text


def lint_text(text, path, settings, **kwargs):
    if "ENGINE_CRASH" in text:
        raise RuntimeError("engine bug for the test")
    return real_lint_text(text, path, settings, **kwargs)


DeprecatedGeneratorApi.check_call = crash
worker.lint_text = lint_text

if __name__ == "__main__":
    server.main()
