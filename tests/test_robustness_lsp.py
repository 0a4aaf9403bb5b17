"""Issue 14, section 2, in the language server: a buffer that crashes the
parser (the lint worker dies, on a new worker too) shows a KM000 diagnostic
instead of nothing, and the session goes on."""

from __future__ import annotations

import pytest

pytest.importorskip("pygls")
pytest.importorskip("pytest_lsp")

import pytest_lsp  # noqa: E402
from pytest_lsp import LanguageClient  # noqa: E402

from tests.lsp_support import initialize, next_publish, open_python, replace_all, server_config  # noqa: E402
from tests.test_robustness_processes import crashing_source  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

BAD = "import numpy as np\nmodel.fit_generator(batches(), steps_per_epoch=10)\n"


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_a_buffer_that_crashes_the_worker_shows_a_km000(client: LanguageClient, tmp_path):
    uri = open_python(client, tmp_path / "crash.py", crashing_source())
    diagnostics = await next_publish(client, uri, 1)
    codes = [d.code for d in diagnostics]
    # KM000 while the parser crashes on it; KM901 once a parser refuses it cleanly
    assert codes in (["KM000"], ["KM901"]), codes
    if codes == ["KM000"]:
        assert "kmlint crashed while analysing this buffer" in diagnostics[0].message
        assert diagnostics[0].severity == 1  # Error
    replace_all(client, uri, 2, BAD)
    assert [d.code for d in await next_publish(client, uri, 2)] == ["KM201"]
