"""Robustness fuzzing, long mode.

    python benchmarks/fuzz.py            # as many examples as the CI share, newly drawn
    python benchmarks/fuzz.py --long     # 10,000 examples per fuzzed property
    python benchmarks/fuzz.py --examples 2000

Runs the properties of tests/test_fuzz.py (described in tests/fuzzing.py)
with more examples and prints Hypothesis' statistics; a failure prints the
smallest failing example and how to reproduce it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--long", action="store_true", help="10,000 examples per property")
    ap.add_argument("--examples", type=int, help="examples per property")
    args = ap.parse_args()
    env = dict(os.environ, KMLINT_FUZZ_RANDOM="1")  # new examples each run (the test suite's are fixed)
    if args.examples or args.long:
        env["KMLINT_FUZZ_EXAMPLES"] = str(args.examples or 10_000)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    started = time.time()
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
                          "--hypothesis-show-statistics", "tests/test_fuzz.py"], cwd=REPO, env=env)
    print(f"\nfuzzing {'passed' if rc == 0 else 'FAILED'} in {time.time() - started:.0f}s "
          f"({env.get('KMLINT_FUZZ_EXAMPLES', 'CI share of')} examples per property)")
    return rc


if __name__ == "__main__":
    sys.exit(main())
