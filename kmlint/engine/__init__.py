"""Discovery, parsing (including notebooks), suppressions and rule dispatch."""
