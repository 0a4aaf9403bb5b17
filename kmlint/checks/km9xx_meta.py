"""KM900 and KM901 are produced by the engine itself (suppressions and parse
errors); these classes give them a code, a name and documentation."""

from kmlint.registry import Rule, register


@register
class UnusedSuppression(Rule):
    code = "KM900"
    name = "unused-suppression"
    summary = "A `# noqa: KMxxx` / `# kmlint: ignore[...]` comment that suppresses nothing"
    fixable = "safe"


@register
class ParseError(Rule):
    code = "KM901"
    name = "parse-error"
    summary = "The file cannot be parsed (syntax, encoding or notebook JSON)"
    severity = "error"
