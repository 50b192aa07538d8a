"""bot/rasa_ext/bootstrap.py: install() puts every listed patch in place once,
whichever of our Rasa plug-ins is created first, and a tracker store failure
then fails the turn instead of answering from an empty conversation."""
import contextlib

import pytest
import rasa.core.run
import rasa.server
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import log_redaction
from bot.rasa_ext import bootstrap, speedups

ALL_PATCHES = bootstrap.SERVER_PATCHES + bootstrap.ENTRY_PATCHES + bootstrap.TRAINING_PATCHES


@contextlib.contextmanager
def from_scratch():
    """No patch in place; afterwards, the process as it was (an earlier test may have created a plug-in)."""
    applied = [patch for patch in ALL_PATCHES if patch.applied()]
    redacting = log_redaction.installed()
    bootstrap.uninstall()
    log_redaction.uninstall()
    try:
        yield
    finally:
        bootstrap.uninstall()
        for patch in applied:
            patch.apply()
        if redacting:
            log_redaction.install()
        else:
            log_redaction.uninstall()


class BrokenStore(InMemoryTrackerStore):
    """A tracker store whose database is gone."""

    async def retrieve(self, sender_id):
        raise ConnectionError("database unreachable")

    async def save(self, tracker):
        raise ConnectionError("database unreachable")


def test_install_puts_each_listed_patch_in_place_once():
    with from_scratch():
        originals = {(p.owner, p.name): p.current() for p in ALL_PATCHES}
        assert not log_redaction.installed()
        bootstrap.install()
        installed = {(p.owner, p.name): p.current() for p in bootstrap.SERVER_PATCHES}
        for patch in bootstrap.SERVER_PATCHES:
            assert patch.applied() and patch.current() is not originals[(patch.owner, patch.name)], patch
        # only the server's entry point (ENTRY) and `python -m bot.rasa_ext.train` (TRAINING) install these
        # (a speedup of both training and serving is in both lists)
        server = {(p.owner, p.name) for p in bootstrap.SERVER_PATCHES}
        for patch in bootstrap.ENTRY_PATCHES + bootstrap.TRAINING_PATCHES:
            if (patch.owner, patch.name) in server:
                continue
            assert not patch.applied() and patch.current() is originals[(patch.owner, patch.name)], patch
        assert log_redaction.installed()
        assert RemoteAction._validate_action_result is speedups.validate_action_result

        bootstrap.install()  # a second plug-in: nothing is wrapped twice
        assert {(p.owner, p.name): p.current() for p in bootstrap.SERVER_PATCHES} == installed

        bootstrap.uninstall()
        assert {(p.owner, p.name): p.current() for p in ALL_PATCHES} == originals


def test_harden_server_wraps_rasas_app_once():
    with from_scratch():
        requires_auth, configure_app = rasa.server.requires_auth, rasa.core.run.configure_app
        bootstrap.harden_server()
        wrapped = rasa.server.requires_auth, rasa.core.run.configure_app
        assert wrapped[0] is not requires_auth and wrapped[1].__wrapped__ is configure_app
        bootstrap.harden_server()
        assert (rasa.server.requires_auth, rasa.core.run.configure_app) == wrapped
        assert not log_redaction.installed()  # left to the plug-ins: Rasa sets up logging after this


async def test_a_failing_tracker_store_fails_the_turn():
    with from_scratch():
        domain = Domain.empty()
        unpatched = FailSafeTrackerStore(BrokenStore(domain))
        assert await unpatched.retrieve("x") is None  # Rasa's own: an empty conversation follows
        bootstrap.install()
        store = FailSafeTrackerStore(BrokenStore(domain))
        with pytest.raises(bootstrap.TrackerStoreUnavailable):
            await store.retrieve("x")
        with pytest.raises(bootstrap.TrackerStoreUnavailable):
            await store.save(DialogueStateTracker("x", []))
        seen = []  # a caller's own callback is still used
        assert await FailSafeTrackerStore(BrokenStore(domain), seen.append).retrieve("x") is None
        assert [type(e) for e in seen] == [ConnectionError]


def test_a_tracker_store_that_fails_to_load_stops_the_server(tmp_path, monkeypatch):
    from rasa.core.tracker_store import create_tracker_store
    from rasa.utils.endpoints import EndpointConfig

    from bot.tracker_store import RedactingTrackerStore

    missing = EndpointConfig(type="bot.no_such_store")
    ours = EndpointConfig(type="bot.tracker_store.RedactingTrackerStore", url=f"sqlite:///{tmp_path / 't.db'}")
    with from_scratch():
        with pytest.warns(UserWarning):  # Rasa's own: a warning, and the conversations in memory only
            assert type(create_tracker_store(missing, Domain.empty())) is InMemoryTrackerStore
        bootstrap.harden_server()
        with pytest.raises(ImportError):
            create_tracker_store(missing, Domain.empty())

        def failing_install():
            raise ImportError("a patch that cannot be imported")

        monkeypatch.setattr(bootstrap, "install", failing_install)
        with pytest.raises(ImportError, match="cannot be imported"):
            create_tracker_store(ours, Domain.empty())
        monkeypatch.undo()
        store = create_tracker_store(ours, Domain.empty())
        assert type(store) is RedactingTrackerStore
        store.engine.dispose()


def _tracker_store(tmp_path):
    from bot.tracker_store import RedactingTrackerStore

    store = RedactingTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    store.engine.dispose()


def _lock_store(tmp_path):
    from bot.lock_store import SharedLockStore

    SharedLockStore(redis_url="")


def _rest_channel(tmp_path):
    from bot.channels.rest import RestInput

    RestInput.from_credentials({"secret": "s"})


def _wechat_channel(tmp_path):
    from bot.channels.wechat import WeChatInput

    WeChatInput.from_credentials({"token": "t", "app_id": "wx0123456789abcdef"})


@pytest.mark.parametrize("create", [_tracker_store, _lock_store, _rest_channel, _wechat_channel])
def test_whichever_plugin_rasa_creates_first_installs_everything(create, tmp_path):
    with from_scratch():
        create(tmp_path)
        assert all(patch.applied() for patch in bootstrap.SERVER_PATCHES)
        assert log_redaction.installed()


def test_the_rasa_server_runs_asyncios_own_event_loop(monkeypatch):
    """uvloop accepted one new connection per round of the server's loop (a
    round lasts up to a second under load): the cluster's new connections
    waited seconds. The hardened app runs on asyncio's loop, whatever policy
    an import has set."""
    import asyncio

    import uvloop
    from sanic import Sanic

    from bot.rasa_ext.rasa_server import harden

    monkeypatch.setattr(asyncio.events, "_event_loop_policy", None)  # restored after the test
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    # harden() puts the turn queue and the kept connections in
    patches = [bootstrap.Patch("rasa.core.agent.Agent", "handle_message", None),
               bootstrap.Patch("rasa.utils.endpoints.EndpointConfig", "session", None)]
    were_applied = [patch.applied() for patch in patches]
    app = harden(Sanic("event_loop_test"))
    loop = asyncio.new_event_loop()
    try:
        assert app.config.USE_UVLOOP is False  # sanic would install uvloop's policy again at run
        assert type(loop).__module__.startswith("asyncio"), type(loop)
    finally:
        loop.close()
        for patch, was_applied in zip(patches, were_applied):
            if not was_applied:
                patch.undo()
