"""The ``kmlint`` command (``python -m kmlint`` and the console script).

A ``kmlint check`` that repeats a run whose inputs did not change prints that
run's report from its manifest (``kmlint.engine.manifest``) before click or the
engine is imported; anything else goes to the click command line."""

import sys


def main() -> None:
    from kmlint.engine.manifest import try_replay

    code, recording = try_replay(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from kmlint.cli import main as cli

    cli(obj={"recording": recording})


if __name__ == "__main__":
    main()
