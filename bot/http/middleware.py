"""Request middleware on a blueprint or a group of blueprints."""
from __future__ import annotations

from inspect import isawaitable
from typing import Any, Callable, Union

from sanic import Blueprint
from sanic.blueprint_group import BlueprintGroup
from sanic.request import Request


def on_request(target: Union[Blueprint, BlueprintGroup], check: Callable[[Request], Any]) -> None:
    """Runs `check(request)` (sync or async) before every route of `target`; it
    refuses by raising, or answers instead of the route by returning a response.

    sanic 21.12's Blueprint.middleware registers nothing, silently, when given
    anything but a plain function (a bound method, a partial): it then waits
    to decorate one. `check` is wrapped in a plain function so that any callable works.
    """

    async def middleware(request: Request) -> Any:
        result = check(request)
        return await result if isawaitable(result) else result

    middleware.__name__ = getattr(check, "__name__", "check")
    target.middleware(middleware, "request")
