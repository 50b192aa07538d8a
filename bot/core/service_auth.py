"""Shared secrets between the product's own processes, presented in headers.

Anything on the host can reach the loopback ports, so the servers that trust
their callers ask for a secret only those callers have (from the environment,
never on a command line or in a URL, where `ps` and proxy logs show it):

- the REST channel of the Rasa server (`REST_CHANNEL_SECRET`, header
  `X-Helpdesk-Rest-Secret`): it trusts the `sender` it is given, so only the
  web process (which issues signed sessions), the tests and the benchmarks
  may call it;
- the action server (`ACTION_SERVER_SECRET`, header
  `X-Helpdesk-Action-Secret`): Rasa sends it with every action call
  (endpoints.yml's `action_endpoint.headers`);
- Rasa's HTTP API (`RASA_AUTH_TOKEN`): Rasa itself reads `?token=`, which
  nginx writes into its error log; our callers send
  `Authorization: Bearer <token>` instead (bot/rasa_ext/rasa_server.py accepts it).

The launcher makes a random value per start for each one left empty. This
module must not import Rasa: the web process uses it too.
"""
from __future__ import annotations

import hmac
from typing import Mapping, Optional

REST_SECRET_HEADER = "X-Helpdesk-Rest-Secret"
ACTION_SECRET_HEADER = "X-Helpdesk-Action-Secret"


def presents(headers: Mapping[str, str], header: str, secret: str) -> bool:
    """True when `headers` carry `secret` in `header`; never for an empty secret."""
    given: Optional[str] = headers.get(header)
    if not secret or not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), secret.encode("utf-8"))


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an `Authorization: Bearer <token>` header ("" without one)."""
    scheme, _, token = (headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bearer_header(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"} if token else {}
