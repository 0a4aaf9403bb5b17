"""Issue 3's acceptance check on the seed articles' code blocks.

The blocks are extracted from ../shared/seeds/*.txt when the test runs (their
code is not ours to copy into the repository); each block becomes its own file
and the real CLI checks them all at once.  Blocks are found by what they
contain, never by their position in an article.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli

# ../shared/seeds next to the checkout (worktrees sit one level deeper)
SEEDS = next((p for p in (ROOT.parent / "shared" / "seeds", ROOT.parent.parent / "shared" / "seeds") if p.is_dir()),
             ROOT.parent / "shared" / "seeds")
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles not available")


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    """Every code block as a file, the JSON findings, and the block texts."""
    out = tmp_path_factory.mktemp("seeds")
    blocks: dict[str, str] = {}
    for article in sorted(SEEDS.glob("*.txt")):
        for i, code in enumerate(BLOCK.findall(article.read_text(encoding="utf-8"))):
            name = f"{article.stem}_block{i}.py"
            (out / name).write_text(code, encoding="utf-8")
            blocks[name] = code
    assert blocks, "no ```python blocks found in the seed articles"
    proc = run_cli("check", "--output-format", "json", "--no-cache", ".", cwd=out)
    assert proc.returncode in (0, 1), proc.stderr
    findings = json.loads(proc.stdout)
    return blocks, findings


def block_with(blocks: dict[str, str], *needles: str, without: tuple[str, ...] = ()) -> str:
    """The one block containing every needle (and none of ``without``)."""
    names = [n for n, code in blocks.items() if all(x in code for x in needles) and not any(x in code for x in without)]
    assert len(names) == 1, (needles, names)
    return names[0]


def line_of(code: str, needle: str) -> int:
    lines = [i for i, text in enumerate(code.splitlines(), 1) if needle in text]
    assert len(lines) == 1, (needle, lines)
    return lines[0]


def found_in(findings, name: str) -> list[tuple[int, str]]:
    return sorted((f["line"], f["code"]) for f in findings if Path(f["path"]).name == name)


def test_deprecated_generator_calls_and_floor_divided_predict_steps(seed_run):
    blocks, findings = seed_run
    train = block_with(blocks, "fit_generator(")
    assert found_in(findings, train) == [(line_of(blocks[train], "fit_generator("), "KM201")]  # steps_per_epoch is fine
    infer = block_with(blocks, "predict_generator(")
    line = line_of(blocks[infer], "predict_generator(")
    assert found_in(findings, infer) == [(line, "KM201"), (line, "KM205")]
    km205 = next(f for f in findings if Path(f["path"]).name == infer and f["code"] == "KM205")
    assert "num_samples//32" in km205["message"] and km205["fix"]["applicability"] == "safe"


def test_float64_generator_is_flagged_and_float32_one_is_not(seed_run):
    blocks, findings = seed_run
    float64 = block_with(blocks, "np.random.rand(", "yield", without=("astype",))
    assert found_in(findings, float64) == [(line_of(blocks[float64], "np.random.rand("), "KM302")]
    float32 = block_with(blocks, "np.random.rand(", "astype(np.float32)")
    assert found_in(findings, float32) == []


def test_image_data_generator_without_shuffle_finding(seed_run):
    blocks, findings = seed_run
    name = block_with(blocks, "ImageDataGenerator(", "shuffle=False")
    assert found_in(findings, name) == [(line_of(blocks[name], "= ImageDataGenerator("), "KM206")]


def test_per_item_predict_in_loop(seed_run):
    blocks, findings = seed_run
    name = block_with(blocks, "for i in range(", "model.predict(")
    # the test images are np.load-ed whole and then only read in batches: KM304 too
    assert found_in(findings, name) == [(line_of(blocks[name], "= np.load("), "KM304"),
                                        (line_of(blocks[name], "model.predict("), "KM203")]


def test_large_tensor_alive_through_fit(seed_run):
    blocks, findings = seed_run
    name = block_with(blocks, "tf.random.normal(", "model.fit(", "del large_tensor")
    line = line_of(blocks[name], "large_tensor = tf.random.normal(")
    assert found_in(findings, name) == [(line, "KM301")]
    km301 = next(f for f in findings if Path(f["path"]).name == name)
    assert "314 MB" in km301["message"]


def test_look_alikes_stay_clean(seed_run):
    blocks, findings = seed_run
    plain_fit = block_with(blocks, "model.fit(x_train", without=("large_tensor",))
    commented_cache = block_with(blocks, "#dataset = dataset.cache()")
    no_fit = block_with(blocks, "tf.random.normal(", without=("model.fit(",))
    for name in (plain_fit, commented_cache, no_fit):
        assert found_in(findings, name) == [], name


def test_nothing_else_is_reported(seed_run):
    """The findings above are the complete list: every other block is clean."""
    _, findings = seed_run
    assert sorted(f["code"] for f in findings) == ["KM201", "KM201", "KM203", "KM205", "KM206", "KM301", "KM302", "KM304"]
