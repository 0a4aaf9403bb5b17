"""The per-file semantic model shared by all rules (built in one walk)."""
