"""One of our sanic apps on a real server in the test's event loop."""
from __future__ import annotations

import contextlib
from typing import AsyncIterator

from sanic import Sanic

from bot.ops.processes import free_port

# Several apps of one name start in this process: sanic refuses a second app
# of a name, and its TouchUp rewrites class methods at each start, unless in test mode.
Sanic.test_mode = True


@contextlib.asynccontextmanager
async def serving(app: Sanic, start_listeners: bool = False) -> AsyncIterator[str]:
    """`app` on a free loopback port; yields its base URL. Leaving stops it as
    SIGTERM does, after_server_stop listeners included. With `start_listeners`,
    its before_ and after_server_start listeners run first, as `sanic.run` runs them."""
    port = free_port()  # not 0: sanic 21.12 takes port=0 for its default, 8000
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    if start_listeners:
        await server.before_start()
        await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
