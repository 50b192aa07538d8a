"""Fixes to hot paths of Rasa 3.6 that cost more than the work they do.

Installed in the Rasa server process by `bot.rasa_ext.bootstrap.install()`.

- Every custom action's reply is validated with `jsonschema.validate(reply,
  schema)`, which first checks the (constant) schema itself against its
  meta-schema: that check was 43% of the Rasa server's CPU on form turns
  (py-spy, 10 users). The same validation with the schema checked once.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Text

from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=None)
def _action_reply_validator():
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate does on every call
    return cls(schema)


def validate_action_result(self, result: Dict[Text, Any]) -> bool:
    """RemoteAction._validate_action_result, with the schema checked once."""
    from jsonschema.exceptions import best_match

    error = best_match(_action_reply_validator().iter_errors(result))
    if error is not None:  # the same error and message as RemoteAction's own
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True

