"""The libcst-backed semantic model (engine v1), kept while rules move to the
ast-backed model in kmlint/semantics (engine v2). Delete once no rule uses it."""
