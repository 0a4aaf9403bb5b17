"""KM501 (memory growth, file and project scope) and KM502 (device
configuration after runtime initialisation)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kmlint.config import Settings
from kmlint.engine.linter import lint_text
from kmlint.semantics import project
from tests.fixing import apply_fixes
from tests.helpers import codes, lint, notebook, run_cli


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


def _project_at_import(tmp_path: Path, modules: dict[str, str], script: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    for name, text in modules.items():
        (tmp_path / name).write_text(src(text))
    path = tmp_path / "train.py"
    path.write_text(src(script))
    return path


TABLES = """
    import tensorflow as tf

    CLASS_WEIGHTS = tf.constant([1.0, 2.5])
"""
LAZY = """
    import tensorflow as tf

    def class_weights():
        return tf.constant([1.0, 2.5])

    if __name__ == "__main__":
        print(class_weights())
"""
CONFIGURE = """
    import tensorflow as tf
    {imports}

    gpus = tf.config.list_physical_devices("GPU")
    tf.config.set_visible_devices(gpus[:1], "GPU")
"""


@pytest.mark.parametrize("imports", ["from tables import CLASS_WEIGHTS", "import os, tables", "import tables as t"])
def test_project_module_that_creates_a_tensor_on_import_initialises_the_runtime(tmp_path, imports):
    path = _project_at_import(tmp_path, {"tables.py": TABLES}, CONFIGURE.format(imports=imports))
    result = lint_text(path.read_text(), str(path), Settings(select=["KM502"]))
    assert [(f.line, f.code) for f in result.findings] == [(5, "KM502")]
    assert "project module `tables` was imported above" in result.findings[0].message
    assert str((tmp_path / "tables.py").resolve()) in result.dependencies


def test_project_module_importing_one_that_creates_a_tensor(tmp_path):
    path = _project_at_import(tmp_path, {"tables.py": TABLES, "data.py": "import tables\n"},
                              CONFIGURE.format(imports="import data"))
    assert codes(path.read_text(), str(path), select=["KM502"]) == [(5, "KM502")]


@pytest.mark.parametrize("modules,imports", [
    ({"lazy.py": LAZY}, "import lazy"),  # tensors only inside functions / under the main guard
    ({"names.py": "LABELS = ['cat', 'dog']\n"}, "from names import LABELS"),  # no TensorFlow at all
])
def test_project_modules_that_create_nothing_on_import(tmp_path, modules, imports):
    path = _project_at_import(tmp_path, modules, CONFIGURE.format(imports=imports))
    assert codes(path.read_text(), str(path), select=["KM502"]) == []


def test_configuration_before_the_initialising_import_is_clean(tmp_path):
    path = _project_at_import(tmp_path, {"tables.py": TABLES}, """
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            tf.config.experimental.set_memory_growth(gpu, True)

        import tables
    """)
    assert codes(path.read_text(), str(path), select=["KM502"]) == []


# ------------------------------------------------------------------ KM501: GPU checks (RULES.md 2026-12-04)

@pytest.mark.parametrize("text", [
    "print('GPUs:', len(tf.config.list_physical_devices('GPU')))",
    "if not tf.config.list_physical_devices('GPU'):\n    print('No GPU was detected')",
    "check_gpu = len(tf.config.list_physical_devices('GPU')) > 0\nprint('GPU is', 'available' if check_gpu else 'NOT AVAILABLE')",
    "gpus = tf.config.experimental.list_physical_devices('GPU')\nunits = 1024 if gpus else 128\n"
    "layer = tf.keras.layers.Dense(units)",
    "def precision():\n    if tf.config.list_physical_devices('GPU'):\n        return 'mixed_float16'\n    return 'float32'\n"
    "policy = precision()",
    "print(tf.test.is_gpu_available(), tf.test.gpu_device_name())",
    "x = tf.ones(3)\nprint(x.device.endswith('GPU:0'), x.device == '/device:GPU:0')",
])
def test_gpu_checks_that_only_print_count_or_pick_a_width_are_not_gpu_targeting(text):
    assert codes("import tensorflow as tf\n" + text + "\n", select=["KM501"]) == []


@pytest.mark.parametrize("text,line", [
    # the result configures devices (through a name, a subscript, a loop)
    ("gpus = tf.config.list_physical_devices('GPU')\nif gpus:\n    tf.config.set_visible_devices(gpus[0], 'GPU')", 2),
    ("gpus = tf.config.list_physical_devices('GPU')\nfor g in gpus:\n"
     "    tf.config.set_logical_device_configuration(g, [tf.config.LogicalDeviceConfiguration()])", 2),
    # it names the device a strategy places work on
    ("gpus = tf.config.list_physical_devices('GPU')\nstrategy = tf.distribute.OneDeviceStrategy(gpus[0].name)", 2),
    ("with tf.device(tf.test.gpu_device_name()):\n    x = tf.ones(3)", 2),
    # it decides whether work goes to a GPU: the finding is on the check
    ("x = tf.ones(3)\nif tf.config.list_physical_devices('GPU'):\n    with tf.device('GPU:0'):\n        y = x + 1", 3),
    ("device = '/gpu:0' if tf.test.is_gpu_available() else '/cpu:0'\nwith tf.device(device):\n    x = tf.ones(3)", 2),
    # the check decides a branch whose own check names the device work is placed on
    ("print(tf.test.is_gpu_available())\nif tf.test.is_gpu_available():\n    device_name = tf.test.gpu_device_name()\n"
     "else:\n    device_name = 'cpu:0'\nwith tf.device(device_name):\n    x = tf.ones(3)", 3),
    # bound in a try, with a CPU fallback in the except, then placed on
    ("try:\n    device = tf.config.list_logical_devices(device_type='GPU')[0]\nexcept IndexError:\n"
     "    device = '/device:CPU:0'\nwith tf.device(device):\n    x = tf.ones(3)", 3),
    # a helper returns the list, the caller configures with it
    ("def gpu_list():\n    return tf.config.list_physical_devices('GPU')\n"
     "tf.config.set_visible_devices(gpu_list()[:1], 'GPU')", 3),
])
def test_gpu_checks_whose_result_configures_or_places_work(text, line):
    assert codes("import tensorflow as tf\n" + text + "\n", select=["KM501"]) == [(line, "KM501")]


def test_finding_is_anchored_on_the_first_real_gpu_marker_not_on_a_print_only_check():
    text = src("""
        import tensorflow as tf

        print(tf.config.list_physical_devices("GPU"))
        x = tf.random.uniform([3, 3])
        print(x.device.endswith("GPU:0"))

        strategy = tf.distribute.MirroredStrategy()
    """)
    assert codes(text, select=["KM501"]) == [(7, "KM501")]


def test_print_only_check_in_a_notebook_anchors_on_the_placing_cell():
    text = notebook("import tensorflow as tf\nprint(tf.config.list_physical_devices('GPU'))",
                    "x = tf.ones(3)",
                    "if tf.config.list_physical_devices('GPU'):\n    with tf.device('GPU:0'):\n        y = x + 1")
    assert [(f.cell, f.line) for f in lint(text, "n.ipynb", select=["KM501"])] == [(2, 1)]


def test_gpus_hidden_only_after_the_notebook_targeted_them():
    # a last section prepares CPU-only worker processes: too late for this kernel
    text = notebook("import os\nimport tensorflow as tf", "strategy = tf.distribute.MirroredStrategy()",
                    "os.environ['CUDA_VISIBLE_DEVICES'] = '-1'")
    assert [(f.cell, f.line) for f in lint(text, "n.ipynb", select=["KM501"])] == [(1, 1)]
    # hidden first: a CPU-only notebook
    text = notebook("import os\nimport tensorflow as tf\nos.environ['CUDA_VISIBLE_DEVICES'] = '-1'",
                    "strategy = tf.distribute.MirroredStrategy()")
    assert lint(text, "n.ipynb", select=["KM501"]) == []


def test_gpus_hidden_before_a_function_with_markers_runs():
    text = src("""
        import os
        import tensorflow as tf

        def main():
            strategy = tf.distribute.MirroredStrategy()

        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        main()
    """)
    assert codes(text, select=["KM501"]) == []


# ------------------------------------------------------------------ KM501: markers in functions, formatted strings

@pytest.mark.parametrize("device", ["'/gpu:%d' % i", "'/gpu:%i' % (i,)", "'/device:GPU:{}'.format(i)", "f'/gpu:{i}'",
                                    "f'/job:worker/task:0/device:GPU:{i}'"])
def test_device_strings_built_by_formatting(device):
    text = f"import tensorflow as tf\nfor i in range(2):\n    with tf.device({device}):\n        x = tf.ones(3)\n"
    assert codes(text, select=["KM501"]) == [(3, "KM501")]


@pytest.mark.parametrize("string", ["'/cpu:%d' % i", "'model_%d.h5' % i", "f'{i}: gpu'", "'{}/gpu'.format(i)"])
def test_formatted_strings_that_are_no_gpu_devices(string):
    assert codes(f"import tensorflow as tf\nfor i in range(2):\n    name = {string}\n", select=["KM501"]) == []


@pytest.mark.parametrize("imports,call", [
    ("from keras.utils import multi_gpu_model", "multi_gpu_model(model, gpus=2)"),
    ("import tensorflow as tf", "tf.keras.utils.multi_gpu_model(model, gpus=2)"),
    ("from keras.utils.training_utils import multi_gpu_model", "multi_gpu_model(model, 4)"),
])
def test_multi_gpu_model_targets_gpus(imports, call):
    assert codes(f"{imports}\nmodel = build()\nparallel = {call}\n", select=["KM501"]) == [(3, "KM501")]


@pytest.mark.parametrize("entry", [
    "from absl import app\n\nif __name__ == '__main__':\n    app.run(main)",
    "from absl import app\n\ndef run_main(argv):\n    main(argv)\n\nif __name__ == '__main__':\n    app.run(run_main)",
    "if __name__ == '__main__':\n    tf.compat.v1.app.run()",
    "import threading\nthreading.Thread(target=main, args=([],)).start()",
])
def test_markers_in_functions_run_by_an_entry_point(entry):
    text = src("""
        import tensorflow as tf

        def main(argv):
            if FLAGS.strategy == "tpu":
                strategy = tf.distribute.TPUStrategy(resolver)
            elif FLAGS.strategy == "gpus":
                strategy = tf.distribute.MirroredStrategy()
    """) + "\n" + entry + "\n"
    assert codes(text, select=["KM501"]) == [(7, "KM501")]


def test_function_only_referenced_is_not_run():
    text = src("""
        import tensorflow as tf

        def main(argv):
            strategy = tf.distribute.MirroredStrategy()

        HANDLERS = {"train": main}
        print(main.__doc__)
    """)
    assert codes(text, select=["KM501"]) == []


# ------------------------------------------------------------------ KM501: code without its imports (issue 16, class 10)

def test_snippet_using_tf_without_importing_it():
    text = "strategy = tf.distribute.MirroredStrategy()\nwith strategy.scope():\n    model = tf.keras.Sequential()\n"
    assert codes(text, select=["KM501"]) == [(1, "KM501")]
    growth = "for g in tf.config.list_physical_devices('GPU'):\n    tf.config.experimental.set_memory_growth(g, True)\n"
    assert codes(growth + text, select=["KM501"]) == []
    # `tf` bound to something else is no TensorFlow
    assert codes("tf = load_plugin()\n" + text, select=["KM501"]) == []


def test_notebook_cells_without_the_tensorflow_import():
    text = notebook("os.environ['CUDA_VISIBLE_DEVICES'] = '0'", "model = tf.keras.Sequential()")
    assert [(f.cell, f.line) for f in lint(text, "n.ipynb", select=["KM501"])] == [(0, 1)]


def test_cuda_visible_devices_without_tensorflow_is_not_reported():
    assert codes("import os\nos.environ['CUDA_VISIBLE_DEVICES'] = '0'\nimport torch\n", select=["KM501"]) == []


# ------------------------------------------------------------------ KM501: %env magics

def test_env_magic_selecting_a_gpu_in_a_notebook():
    text = notebook("import tensorflow as tf", "# make visible the only one GPU\n%env CUDA_VISIBLE_DEVICES=3",
                    "model = tf.keras.Sequential()")
    found = lint(text, "n.ipynb", select=["KM501"])
    assert [(f.cell, f.line, f.column) for f in found] == [(1, 2, 1)]


@pytest.mark.parametrize("cell", [
    "#%env CUDA_VISIBLE_DEVICES=2",  # commented out
    "%env CUDA_VISIBLE_DEVICES=-1",  # hides every GPU
    "%env CUDA_VISIBLE_DEVICES=0\n%env TF_FORCE_GPU_ALLOW_GROWTH=true",  # growth
])
def test_env_magics_that_do_not_leave_gpus_without_growth(cell):
    text = notebook("import tensorflow as tf", cell, "with tf.device('/gpu:0'):\n    x = tf.ones(3)"
                    if "-1" in cell or "GROWTH" in cell else "x = tf.ones(3)")
    assert lint(text, "n.ipynb", select=["KM501"]) == []


# ------------------------------------------------------------------ KM501: project-level GPU use (issue 16, class 9)

FRONTEND = """
    import tensorflow as tf
    from keras.models import Model

    class YOLO:
        def __init__(self, size):
            self.model = Model()
"""
SCRIPT_WITHOUT_TF = """
    import os
    from frontend import YOLO

    os.environ["CUDA_VISIBLE_DEVICES"] = "0"
    yolo = YOLO(416)
"""


def test_script_whose_tensorflow_lives_in_imported_project_modules(tmp_path):
    path = _project_at_import(tmp_path, {"frontend.py": FRONTEND}, SCRIPT_WITHOUT_TF)
    result = lint_text(path.read_text(), str(path), Settings(select=["KM501"]))
    assert [(f.line, f.code) for f in result.findings] == [(4, "KM501")]
    assert str((tmp_path / "frontend.py").resolve()) in result.dependencies


@pytest.mark.parametrize("frontend", [
    # growth anywhere in the module the script's TensorFlow comes from
    FRONTEND + "\n    def _session():\n        config = tf.compat.v1.ConfigProto()\n"
               "        config.gpu_options.allow_growth = True\n",
    # no TensorFlow in the project at all
    "import torch\n\nclass YOLO:\n    pass\n",
])
def test_script_without_tensorflow_when_the_project_enables_growth_or_has_no_tf(tmp_path, frontend):
    path = _project_at_import(tmp_path, {"frontend.py": frontend}, SCRIPT_WITHOUT_TF)
    assert codes(path.read_text(), str(path), select=["KM501"]) == []
