"""The request class of every sanic server we run (ours, Rasa's, rasa_sdk's)."""
from __future__ import annotations

from typing import Any

from sanic.exceptions import InvalidUsage
from sanic.request import Request


class CheckedRequest(Request):
    """Refuses a Content-Length that is not one plain non-negative number:
    sanic 21.12 trusts int() of it, and a negative length makes its body
    reader spin forever (one request would hang the server)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lengths = self.headers.getall("content-length", [])
        if len(lengths) > 1 or (lengths and not (lengths[0].isascii() and lengths[0].isdigit() and len(lengths[0]) <= 15)):
            raise InvalidUsage("Bad Request")
