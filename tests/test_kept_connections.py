"""bot/rasa_ext/kept_connections.py: the Rasa server's calls to an endpoint
(the action server) go over one kept connection instead of a new one each,
with the same answers, and a connection the server closed is not reused."""
import asyncio
import json

import pytest
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext import bootstrap, kept_connections

pytestmark = pytest.mark.asyncio

PATCH = bootstrap.Patch("rasa.utils.endpoints.EndpointConfig", "session", kept_connections.kept_session)


class Server:
    """An HTTP/1.1 server that echoes each JSON body with the connection's number,
    and closes a connection after `per_connection` requests."""

    def __init__(self, per_connection: int = 1000) -> None:
        self.connections = 0
        self.per_connection = per_connection
        self.headers = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        for _ in range(self.per_connection):
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break  # the client closed the connection
            lines = head.decode().split("\r\n")
            headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if line)}
            self.headers.append(headers)
            body = json.loads(await reader.readexactly(int(headers["content-length"])))
            reply = json.dumps({"echo": body, "connection": number}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(reply), reply))
            await writer.drain()
        writer.close()


@pytest.fixture
async def server():
    echo = Server()
    listening = await asyncio.start_server(echo.serve, "127.0.0.1", 0)
    echo.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/webhook"
    was_applied = PATCH.applied()
    PATCH.apply()
    yield echo
    await kept_connections.close_sessions()
    if not was_applied:
        PATCH.undo()
    listening.close()


async def test_calls_share_one_connection_and_get_their_own_answers(server):
    endpoint = EndpointConfig(server.url, headers={"X-Secret": "s"})
    answers = [await endpoint.request(json={"call": n}) for n in range(5)]
    assert [a["echo"] for a in answers] == [{"call": n} for n in range(5)]
    assert {a["connection"] for a in answers} == {1} and server.connections == 1
    assert all(h["x-secret"] == "s" for h in server.headers)  # the endpoint's headers, as Rasa sends them


async def test_concurrent_calls_each_get_theirs(server):
    endpoint = EndpointConfig(server.url)
    answers = await asyncio.gather(*(endpoint.request(json={"call": n}) for n in range(20)))
    assert [a["echo"] for a in answers] == [{"call": n} for n in range(20)]
    assert server.connections <= 20


async def test_a_connection_the_server_closed_is_not_reused(server):
    server.per_connection = 1  # the server closes each connection after its answer
    endpoint = EndpointConfig(server.url)
    answers = []
    for n in range(3):
        answers.append(await endpoint.request(json={"call": n}))
        await asyncio.sleep(0.05)  # the close reaches this side
    assert [a["echo"] for a in answers] == [{"call": n} for n in range(3)] and server.connections == 3


async def test_stopping_closes_the_sessions(server):
    endpoint = EndpointConfig(server.url)
    await endpoint.request(json={})
    async with endpoint.session() as session:
        pass
    assert not session.closed  # leaving `async with` keeps it for the next call
    await kept_connections.close_sessions()
    assert session.closed
    assert (await endpoint.request(json={"again": 1}))["echo"] == {"again": 1}  # a new one after


async def test_a_reloaded_models_endpoint_with_the_same_settings_shares_the_session(server):
    """A model reload builds a new EndpointConfig: no new session (and none left behind) for it."""
    first, second = EndpointConfig(server.url, headers={"X-Secret": "s"}), EndpointConfig(server.url, headers={"X-Secret": "s"})
    other = EndpointConfig(server.url, headers={"X-Secret": "t"})
    for endpoint in (first, second, other):
        await endpoint.request(json={})
    async with first.session() as a, second.session() as b, other.session() as c:
        assert a is b and a is not c
    assert server.connections == 2
