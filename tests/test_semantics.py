import libcst as cst
import pytest

from kmlint.legacy.semantics.model import build_model


def _model(src):
    return build_model(cst.parse_module(src))


def _call_qualname(src, name):
    m = _model(src)
    return [m.qualname(c.node.func) for c in m.calls_by_name[name]]


@pytest.mark.parametrize("src", [
    "import tensorflow as tf\ntf.keras.Sequential()\n",
    "import tensorflow\ntensorflow.keras.Sequential()\n",
    "import keras\nkeras.Sequential()\n",
    "from tensorflow import keras\nkeras.Sequential()\n",
    "from keras import models\nmodels.Sequential()\n",
    "from tensorflow.keras import models\nmodels.Sequential()\n",
    "from tensorflow.keras.models import Sequential\nSequential()\n",
    "from tensorflow.keras.models import Sequential as Seq\nSeq()\n",
    "import tensorflow.keras as K\nK.Sequential()\n",
    "import tf_keras\ntf_keras.Sequential()\n",
])
def test_keras_spellings_resolve_to_one_name(src):
    name = src.strip().splitlines()[-1].split("(")[0].split(".")[-1]
    m = _model(src)
    call = m.calls_by_name[name][0]
    assert m.qualname(call.node.func) == "keras.Sequential"
    # indexed under the real API name too
    assert call in m.calls_by_name["Sequential"]


def test_image_data_generator_paths():
    for src in [
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\nImageDataGenerator()\n",
        "import tensorflow as tf\ntf.keras.preprocessing.image.ImageDataGenerator()\n",
        "from keras.preprocessing import image\nimage.ImageDataGenerator()\n",
    ]:
        assert _call_qualname(src, "ImageDataGenerator") == ["keras.preprocessing.image.ImageDataGenerator"]


def test_local_names_shadow_imports():
    src = "from tensorflow.keras.models import Sequential\ndef f(Sequential):\n    return Sequential()\n"
    assert _call_qualname(src, "Sequential") == [None]


def test_bare_names_without_imports_stay_bare():
    assert _call_qualname("ImageDataGenerator()\n", "ImageDataGenerator") == ["ImageDataGenerator"]


def test_tf_data_chain_across_assignments_and_cells():
    src = (
        "import tensorflow as tf\n"
        "ds = tf.data.Dataset.from_tensor_slices(x)\n"
        "ds = ds.map(f)\n"
        "ds = ds.shuffle(100).cache()\n"
        "final = ds.batch(32)\n"
    )
    m = _model(src)
    chain = m.chain(m.calls_by_name["batch"][0].node)
    assert chain.origin_qualname == "tensorflow.data.Dataset.from_tensor_slices"
    assert chain.methods() == ["map", "shuffle", "cache", "batch"]
    assert m.is_dataset_chain(chain)


def test_loops_and_helpers():
    src = (
        "def helper(x):\n"
        "    return model.predict(x)\n"
        "for i in range(10):\n"
        "    item = data[i]\n"
        "    helper(item)\n"
        "for j in range(3):\n"
        "    pass\n"
    )
    m = _model(src)
    predict = m.calls_by_name["predict"][0]
    assert predict.loops == ()
    [(loop, chain)] = m.loop_contexts(predict)
    assert chain[0].name == "helper" and loop.targets == {"i"}
    assert loop.variant_names == {"i", "item"}
    assert m.depends_on_loop(chain[0].node, loop)
    assert m.literal_iterations(loop) == 10
    assert m.literal_iterations(m.loops[1]) == 3


def test_comprehension_is_a_loop():
    m = _model("preds = [model.predict(x) for x in batches]\n")
    c = m.calls_by_name["predict"][0]
    assert [l.kind for l in c.loops] == ["comp"] and c.loops[0].targets == {"x"}


def test_keras_model_evidence():
    src = (
        "import tensorflow as tf\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "net = tf.keras.models.load_model('m.keras')\n"
        "clf = RandomForestClassifier()\n"
        "def build():\n"
        "    return tf.keras.Sequential([])\n"
        "built = build()\n"
        "compiled = make()\n"
        "compiled.compile(optimizer='adam')\n"
        "net.predict(a); clf.predict(a); built.predict(a); compiled.predict(a)\n"
    )
    m = _model(src)
    verdict = {c.receiver.value: m.is_keras_model(c.receiver) for c in m.calls_by_name["predict"]}
    assert verdict == {"net": True, "clf": False, "built": True, "compiled": True}


def test_binding_order_for_self_reassignment():
    m = _model("x = load()\nx = x / 255.0\n")
    second = m.module_scope.bindings["x"][1]
    inner = second.value.left
    assert m.binding_of(inner) is m.module_scope.bindings["x"][0]
