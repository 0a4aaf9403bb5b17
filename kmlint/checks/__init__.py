"""One module per rule.  Every module here is imported by the registry."""
