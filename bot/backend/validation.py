"""Parsing and validating what a request carries: JSON bodies against the
OpenAPI request schemas, headers, query parameters.

Error messages name the field and what is expected, never the value sent
(it may be an ID number or a code).
"""
from __future__ import annotations

import re
from typing import Any, Dict, Optional

from jsonschema import Draft7Validator, validators
from jsonschema.exceptions import ValidationError

from bot.backend.errors import DomainError, invalid_request
from bot.backend.openapi import REQUEST_SCHEMAS
from bot.http.json import loads
from bot.privacy.pii import redact


def _full_match_pattern(validator, pattern, instance, schema):
    """JSON Schema patterns are ECMA regexes, where `$` ends the input; Python's
    re.search would also accept a trailing newline. Our patterns are anchored."""
    if validator.is_type(instance, "string") and not re.fullmatch(pattern.lstrip("^").rstrip("$"), instance):
        yield ValidationError(f"does not match {pattern}")


_Validator = validators.extend(Draft7Validator, {"pattern": _full_match_pattern})
_VALIDATORS = {name: _Validator(schema) for name, schema in REQUEST_SCHEMAS.items()}
_TYPE_WORDS = {"string": "a string", "object": "an object", "integer": "an integer", "boolean": "true or false",
               "array": "an array", "number": "a number"}


def invalid_json(message: str = "The request body is not valid JSON.") -> DomainError:
    return DomainError(400, "invalid_json", message)


def parse_json(body: bytes) -> Any:
    try:
        return loads(body)
    except ValueError:  # UnicodeDecodeError is one
        raise invalid_json() from None


def _unsafe_string(value: Any) -> bool:
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON)
            return True
    return False


def _printable(text: str) -> str:
    """Safe to echo in an error message: valid UTF-8, no control characters,
    ID and phone numbers and codes masked, at most 40 characters."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = re.sub(r"[\x00-\x1f\x7f]", "?", text)
    return redact(text, codes=True)[:40]


def _describe(error, schema: Dict[str, Any]) -> str:
    field = ".".join(str(p) for p in error.absolute_path)
    where = f"Field '{field}'" if field else "The request body"
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "type":
        return f"{where} must be {_TYPE_WORDS.get(expected, expected)}."
    if kind == "required":
        missing = [name for name in expected if isinstance(instance, dict) and name not in instance]
        return f"Missing field '{missing[0] if missing else '?'}'."
    if kind == "additionalProperties":
        known = set(schema.get("properties", {}))
        unknown = [_printable(str(k)) for k in instance if k not in known][:5]
        return f"Unknown field(s): {', '.join(repr(u) for u in unknown)}; allowed: {', '.join(sorted(known)) or 'none'}."
    if kind == "minLength":
        return f"{where} must have at least {expected} character(s)."
    if kind == "maxLength":
        return f"{where} must have at most {expected} characters."
    if kind == "pattern":
        return f"{where} has the wrong format."
    if kind == "enum":
        return f"{where} must be one of: {', '.join(map(str, expected))}."
    return f"{where} is invalid."


def validate(schema_name: str, data: Any) -> Dict[str, Any]:
    """`data` if it conforms to the request schema, else DomainError 422."""
    validator = _VALIDATORS[schema_name]
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise invalid_request(_describe(errors[0], REQUEST_SCHEMAS[schema_name]))
    for name, value in data.items():
        if _unsafe_string(value):
            raise invalid_request(f"Field '{name}' contains characters that are not allowed.")
    return data


def body(raw: bytes, schema_name: str, required: bool) -> Dict[str, Any]:
    """The validated JSON object of a request body; an empty optional body is {}."""
    if not raw or not raw.strip():
        if required:
            raise invalid_json("A JSON request body is required.")
        return {}
    return validate(schema_name, parse_json(raw))


def matches(pattern: str, value: Optional[str]) -> bool:
    return isinstance(value, str) and re.fullmatch(pattern.lstrip("^").rstrip("$"), value) is not None


def _one_query_value(args, name: str) -> Optional[str]:
    """The parameter's single value (blank values kept); None if absent."""
    values = args.getlist(name) if name in args else []
    if not values:
        return None
    if len(values) > 1:
        raise invalid_request(f"Query parameter '{name}' is given more than once.")
    return values[0]


def int_query(args, name: str, default: int, low: int, high: int) -> int:
    value = _one_query_value(args, name)
    if value is None:
        return default
    if not re.fullmatch(r"-?[0-9]{1,6}", value) or not low <= int(value) <= high:
        raise invalid_request(f"Query parameter '{name}' must be an integer from {low} to {high}.")
    return int(value)


def enum_query(args, name: str, allowed) -> Optional[str]:
    value = _one_query_value(args, name)
    if value is not None and value not in allowed:
        raise invalid_request(f"Query parameter '{name}' must be one of: {', '.join(allowed)}.")
    return value
