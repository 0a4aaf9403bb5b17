"""KM501 (memory growth, file and project scope) and KM502 (device
configuration after runtime initialisation)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kmlint.config import Settings
from kmlint.engine.linter import lint_text
from kmlint.legacy.semantics import project
from tests.fixing import apply_fixes
from tests.helpers import codes, lint, run_cli


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


SCRIPT = src("""
    import tensorflow as tf
    {enable}
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(1)])
""")


def test_gpu_script_without_growth_is_flagged_once_at_the_first_gpu_line():
    text = src("""
        import os
        import tensorflow as tf

        os.environ["CUDA_VISIBLE_DEVICES"] = "1"
        gpus = tf.config.list_physical_devices("GPU")
        with tf.device("/gpu:0"):
            x = tf.ones((4, 4))
    """)
    assert codes(text, select=["KM501"]) == [(4, "KM501")]


@pytest.mark.parametrize("enable", [
    "for g in tf.config.list_physical_devices('GPU'):\n    tf.config.experimental.set_memory_growth(g, True)",
    "import os\nos.environ['TF_FORCE_GPU_ALLOW_GROWTH'] = 'true'",
    "config = tf.compat.v1.ConfigProto()\nconfig.gpu_options.allow_growth = True",
    "config = tf.compat.v1.ConfigProto()\nconfig.gpu_options.per_process_gpu_memory_fraction = 0.4",
    "opts = tf.compat.v1.GPUOptions(allow_growth=True)",
    "gpus = tf.config.list_physical_devices('GPU')\n"
    "tf.config.set_logical_device_configuration(gpus[0], [tf.config.LogicalDeviceConfiguration(memory_limit=4096)])",
    "gpus = tf.config.experimental.list_physical_devices('GPU')\ntf.config.experimental.set_virtual_device_configuration("
    "gpus[0], [tf.config.experimental.VirtualDeviceConfiguration(memory_limit=1024)])",
])
def test_each_way_of_enabling_growth_or_a_limit_counts(enable):
    assert codes(SCRIPT.format(enable=enable), select=["KM501"]) == []


def test_growth_explicitly_off_and_cpu_only_scripts():
    off = "for g in tf.config.list_physical_devices('GPU'):\n    tf.config.experimental.set_memory_growth(g, False)"
    assert codes(SCRIPT.format(enable=off), select=["KM501"]) != []
    cpu = "import os\nos.environ['CUDA_VISIBLE_DEVICES'] = '-1'"
    assert codes(SCRIPT.format(enable=cpu), select=["KM501"]) == []


def test_library_function_never_called_is_not_a_script():
    text = src("""
        import tensorflow as tf

        def get_strategy():
            return tf.distribute.MirroredStrategy()
    """)
    assert codes(text, select=["KM501"]) == []
    assert codes(text + "\nif __name__ == '__main__':\n    get_strategy()\n", select=["KM501"]) == [(4, "KM501")]


def test_fix_inserts_growth_loop_after_the_imports_before_tensor_work():
    text = src("""
        import os
        import numpy as np
        import tensorflow as tf
        from tensorflow import keras

        x = tf.zeros((2, 2))
        with tf.device("/GPU:0"):
            y = x + 1
        from sklearn.metrics import accuracy_score
    """)
    fixed = apply_fixes(text, "KM501")
    assert fixed == text.replace("from tensorflow import keras\n", "from tensorflow import keras\n\n"
                                 "for gpu in tf.config.list_physical_devices(\"GPU\"):\n"
                                 "    tf.config.experimental.set_memory_growth(gpu, True)\n")


# ------------------------------------------------------------------ project scope

def _project(tmp_path: Path, helper: str, script: str, marker: bool = True) -> Path:
    if marker:
        (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "__init__.py").write_text("")
    (tmp_path / "utils" / "gpu.py").write_text(src(helper))
    (tmp_path / "scripts").mkdir()
    path = tmp_path / "scripts" / "train.py"
    path.write_text(src(script))
    return path


HELPER = """
    import tensorflow as tf

    def _grow(gpus):
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)

    def setup_gpu():
        _grow(tf.config.list_physical_devices("GPU"))

    def describe():
        return tf.config.list_physical_devices("GPU")
"""


@pytest.mark.parametrize("imports,call", [
    ("from utils.gpu import setup_gpu", "setup_gpu()"),
    ("import utils.gpu", "utils.gpu.setup_gpu()"),
    ("import utils.gpu as g", "g.setup_gpu()"),
    ("from utils import gpu", "gpu.setup_gpu()"),
])
def test_growth_enabled_by_a_project_helper_counts(tmp_path, imports, call):
    path = _project(tmp_path, HELPER, f"import tensorflow as tf\n{imports}\n\n{call}\nstrategy = tf.distribute.MirroredStrategy()\n")
    result = lint_text(path.read_text(), str(path), Settings(select=["KM501"]))
    assert result.findings == []
    helper = str((tmp_path / "utils" / "gpu.py").resolve())
    assert helper in result.dependencies
    # the others are where a missing import (tensorflow) would appear as a project module
    assert all(not Path(d).exists() for d in result.dependencies if d != helper), result.dependencies


def test_importing_a_helper_without_calling_the_growth_function_is_flagged(tmp_path):
    path = _project(tmp_path, HELPER, """
        import tensorflow as tf
        from utils.gpu import setup_gpu, describe

        describe()
        strategy = tf.distribute.MirroredStrategy()
    """)
    result = lint_text(path.read_text(), str(path), Settings(select=["KM501"]))
    assert [(f.line, f.code) for f in result.findings] == [(5, "KM501")]
    # the helper's content decided the result: it is a dependency for the cache
    assert str((tmp_path / "utils" / "gpu.py").resolve()) in result.dependencies
    # the others are where a missing import would appear as a project module
    assert all(not Path(d).exists() for d in result.dependencies if d != str((tmp_path / "utils" / "gpu.py").resolve()))


def test_relative_import_and_growth_at_import_time(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "gpu_init.py").write_text(src("""
        import tensorflow as tf
        for g in tf.config.list_physical_devices("GPU"):
            tf.config.experimental.set_memory_growth(g, True)
    """))
    main = tmp_path / "pkg" / "main.py"
    main.write_text(src("""
        import tensorflow as tf
        from . import gpu_init

        with tf.device("/GPU:0"):
            x = tf.ones(3)
    """))
    assert lint_text(main.read_text(), str(main), Settings(select=["KM501"])).findings == []


def test_helper_edits_are_picked_up_by_the_per_process_cache(tmp_path):
    path = _project(tmp_path, HELPER, """
        import tensorflow as tf
        from utils.gpu import setup_gpu

        setup_gpu()
        strategy = tf.distribute.MirroredStrategy()
    """)
    settings = Settings(select=["KM501"])
    assert lint_text(path.read_text(), str(path), settings).findings == []
    helper = tmp_path / "utils" / "gpu.py"
    helper.write_text(src(HELPER).replace("set_memory_growth(gpu, True)", "print(gpu)  # growth removed"))
    assert [f.code for f in lint_text(path.read_text(), str(path), settings).findings] == ["KM501"]


def test_unparsable_helper_is_no_crash_and_no_growth(tmp_path):
    path = _project(tmp_path, "def setup_gpu(:\n", """
        import tensorflow as tf
        from utils.gpu import setup_gpu

        setup_gpu()
        strategy = tf.distribute.MirroredStrategy()
    """)
    result = lint_text(path.read_text(), str(path), Settings(select=["KM501"]))
    assert [f.code for f in result.findings] == ["KM501"] and result.internal_errors == 0


def test_project_root_and_module_resolution(tmp_path):
    path = _project(tmp_path, HELPER, "x = 1\n")
    assert project.project_root(path) == tmp_path
    assert project.resolve(path, "utils.gpu.setup_gpu") == (tmp_path / "utils" / "gpu.py", ["setup_gpu"])
    assert project.resolve(path, "numpy.linalg") is None


def test_project_scope_through_the_cli(tmp_path):
    _project(tmp_path, HELPER, """
        import tensorflow as tf
        from utils.gpu import setup_gpu

        setup_gpu()
        strategy = tf.distribute.MirroredStrategy()
    """)
    (tmp_path / "other.py").write_text("import tensorflow as tf\nwith tf.device('/GPU:0'):\n    x = tf.ones(1)\n")
    r = run_cli("check", "--no-cache", "--select", "KM501", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "other.py:2:" in r.stdout and "train.py" not in r.stdout


# ------------------------------------------------------------------ KM502

def test_config_in_setup_function_called_after_the_model_is_built():
    text = src("""
        import tensorflow as tf

        def setup():
            for g in tf.config.list_physical_devices("GPU"):
                tf.config.experimental.set_memory_growth(g, True)

        def main():
            model = tf.keras.applications.ResNet50(weights=None)
            setup()
            model.summary()

        main()
    """)
    found = lint(text, select=["KM502"])
    assert [(f.line, f.code) for f in found] == [(5, "KM502")]
    assert "a model" in found[0].message


def test_config_called_first_in_main_is_clean():
    text = src("""
        import tensorflow as tf

        def setup():
            for g in tf.config.list_physical_devices("GPU"):
                tf.config.experimental.set_memory_growth(g, True)

        def main():
            setup()
            ds = tf.data.Dataset.range(10)
            print(tf.config.list_logical_devices("GPU"))

        main()
    """)
    assert codes(text, select=["KM502"]) == []


def test_logical_devices_listing_initialises_the_runtime():
    text = src("""
        import tensorflow as tf

        print(tf.config.list_logical_devices("GPU"))
        tf.config.set_visible_devices([], "GPU")
    """)
    assert codes(text, select=["KM502"]) == [(4, "KM502")]
