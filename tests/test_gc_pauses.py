"""The loaded model out of the garbage collector's full collections
(bot/rasa_ext/gc_pauses.py): the Rasa server freezes what it loaded before it
started; a reload frees the old model, reference cycles and all (test_model_reload_units)."""
from __future__ import annotations

import gc

import httpx
import pytest
from sanic import Sanic, response

from bot.rasa_ext import bootstrap
from tests.support.sanic_server import serving


class StandInModel:
    """Objects in a reference cycle, as TensorFlow's are."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture()
def hardened_app():
    """Rasa's app as rasa_server.harden leaves it (its patches undone after the test)."""
    from bot.rasa_ext.rasa_server import harden

    patches = [bootstrap.Patch("rasa.core.agent.Agent", "handle_message", None),
               bootstrap.Patch("rasa.utils.endpoints.EndpointConfig", "session", None)]
    were_applied = [patch.applied() for patch in patches]
    gc.unfreeze()
    yield harden(Sanic("gc_pauses_test"))
    gc.unfreeze()
    for patch, was_applied in zip(patches, were_applied):
        if not was_applied:
            patch.undo()


def _in_full_collections(target: object) -> bool:
    return any(candidate is target for candidate in gc.get_objects(generation=2))


async def test_the_model_loaded_before_the_server_started_is_left_out_of_full_collections(hardened_app):
    app = hardened_app

    @app.listener("before_server_start")  # where Rasa loads the model
    async def load_model(app, loop):
        app.ctx.model = StandInModel()

    @app.get("/")
    async def hello(request):
        return response.text("Hello from Rasa")

    async with serving(app, start_listeners=True) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/")).text == "Hello from Rasa"
        assert gc.get_freeze_count() > 0
        assert not _in_full_collections(app.ctx.model)
        answer = StandInModel()  # made while serving: collected as usual
        gc.collect()
        assert _in_full_collections(answer)
