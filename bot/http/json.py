"""JSON in and out: how every answer is encoded, and the one parser of request bodies."""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from sanic.response import HTTPResponse


def dumps(data: Any, **_: Any) -> str:
    """Compact, and Chinese as itself rather than \\u escapes."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def json_response(body: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    return HTTPResponse(dumps(body), status=status, headers=headers, content_type="application/json")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(raw: bytes) -> Any:
    """A request body's JSON value. ValueError for anything but strict JSON in
    UTF-8: NaN and Infinity, invalid UTF-8, nesting too deep for the parser."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deep") from None
