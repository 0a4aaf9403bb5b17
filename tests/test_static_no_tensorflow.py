"""Static mode must never import TensorFlow (it would cost seconds per run)."""

import subprocess
import sys

from tests.helpers import FIXTURES, ROOT


def test_lint_run_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from kmlint.cli import main\n"
        "try:\n"
        f"    main(['check', '--no-cache', '--exit-zero', {str(FIXTURES)!r}], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "bad = sorted(m for m in sys.modules if m == 'tensorflow' or m.startswith(('tensorflow.', 'keras')))\n"
        "print('IMPORTED:' + ','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "IMPORTED:" in out.stdout, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "IMPORTED:", out.stdout
