"""The semantic model (engine v2), built from CPython's ast."""
