"""benchmarks/gpu_check.py runs without a GPU too (`--device cpu`): the probe
check and one scenario on TensorFlow, printed as the verdict table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytest.importorskip("tensorflow")


def test_gpu_check_prints_the_verdict_table_on_the_cpu(tmp_path):
    out = tmp_path / "check.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--device", "cpu",
                          "--backends", "tensorflow", "--codes", "KM203", "--iterations", "12", "--json", str(out)],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Probe check (a 1 GiB tensor held):" in res.stdout and "Scenarios (bad vs fixed):" in res.stdout
    data = json.loads(out.read_text())
    [probe] = data["probes"]
    assert probe["status"] == "ok" and probe["metric"] == "tf_current" and probe["held"] >= 1 << 30
    [row] = data["rows"]
    assert row["rule"] == "KM203" and row["verdict"] == "confirmed" and row["effect"] == "fix removes the growth"
