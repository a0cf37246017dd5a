"""Validation of Bot API calls against the machine-readable spec in ``api.json``.

The emulator refuses calls that the real Telegram would silently ignore (unknown parameters) or
reject (missing ones), so that a bot developed against it stays within the documented API. The
same checker is exposed as :func:`check_call` so tests can re-run it over every recorded call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "SpecError",
    "Upload",
    "check_call",
    "check_object",
    "decode_params",
    "load_spec",
    "method_name",
]


@dataclass(eq=False)
class Upload:
    """A file part from a multipart request (what the spec calls ``InputFile``)."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


class SpecError(Exception):
    """A parameter could not be decoded to any of its documented types."""


@cache
def load_spec() -> dict[str, Any]:
    """The Bot API spec shipped with the package (works from a wheel, too)."""
    text = resources.files("emulator").joinpath("api.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _method_index() -> dict[str, str]:
    return {name.lower(): name for name in load_spec()["methods"]}


def method_name(name: str) -> str | None:
    """Canonical spelling of a method (Telegram matches method names case-insensitively)."""
    return _method_index().get(name.lower())


def _fields(kind: str, name: str) -> dict[str, dict[str, Any]]:
    entry = load_spec()[kind].get(name) or {}
    return {f["name"]: f for f in entry.get("fields", [])}


_SCALARS = ("Integer", "Float", "Boolean", "String", "InputFile")


def _decode_scalar(value: str, types: list[str]) -> Any:
    """Decode one form-encoded string according to the documented types (first match wins)."""
    for t in types:
        if t == "Integer":
            if re.fullmatch(r"[+-]?\d+", value.strip()):
                return int(value)
        elif t == "Float":
            try:
                return float(value)
            except ValueError:
                continue
        elif t == "Boolean":
            low = value.strip().lower()
            if low in ("true", "1"):
                return True
            if low in ("false", "0"):
                return False
        elif t in ("String", "InputFile"):
            continue
        else:  # an object or an array: JSON-serialized
            try:
                return json.loads(value)
            except ValueError:
                continue
    if "String" in types or "InputFile" in types:
        return value
    raise SpecError(f"can't parse value {value!r} as {' or '.join(types)}")


def decode_params(
    method: str, raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Upload], list[str]]:
    """Turn raw request values (strings, JSON values, uploads) into typed parameters.

    Returns ``(params, attachments, problems)``: file parts that are not parameters themselves
    are ``attach://`` targets; undecodable values are reported as problems.
    """
    fields = _fields("methods", method)
    params: dict[str, Any] = {}
    attachments: dict[str, Upload] = {}
    problems: list[str] = []
    for key, value in raw.items():
        field = fields.get(key)
        if isinstance(value, Upload):
            if field is None:
                attachments[key] = value
            else:
                params[key] = value
            continue
        if field is None or not isinstance(value, str):
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if field and numeric and field["types"] == ["String"]:
                value = str(value)  # Telegram coerces JSON numbers to strings
            params[key] = value
            continue
        try:
            params[key] = _decode_scalar(value, field["types"])
        except SpecError as exc:
            problems.append(f'parameter "{key}": {exc}')
            params[key] = value
    return params, attachments, problems


def _discriminator(type_name: str) -> str | None:
    field = _fields("types", type_name).get("type")
    if not field:
        return None
    m = re.search(r'must be "?([a-z_]+)"?', field["description"])
    return m.group(1) if m else None


def _check_value(value: Any, type_name: str, path: str) -> list[str]:
    if type_name.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{path}: expected {type_name}"]
        problems: list[str] = []
        for idx, item in enumerate(value):
            problems += _check_value(item, type_name[len("Array of ") :], f"{path}[{idx}]")
        return problems
    if type_name == "Integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected Integer"]
    if type_name == "Float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected Float"]
    if type_name == "Boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected Boolean"]
    if type_name == "String":
        return [] if isinstance(value, str) else [f"{path}: expected String"]
    if type_name == "InputFile":
        return [] if isinstance(value, Upload) else [f"{path}: expected InputFile"]
    entry = load_spec()["types"].get(type_name)
    if entry is None:
        return [f"{path}: unknown type {type_name}"]
    if entry.get("subtypes"):
        return _check_union(value, entry["subtypes"], path)
    if not isinstance(value, dict):
        return [f"{path}: expected {type_name} object"]
    fields = _fields("types", type_name)
    problems = []
    for key in value:
        if key not in fields:
            problems.append(f'{path}: unknown field "{key}" in {type_name}')
    for name, field in fields.items():
        if name not in value:
            if field["required"]:
                problems.append(f'{path}: missing required field "{name}" in {type_name}')
            continue
        problems += _check_union(value[name], field["types"], f"{path}.{name}")
    disc = _discriminator(type_name)
    if disc and value.get("type") not in (None, disc):
        problems.append(f'{path}.type: must be "{disc}" for {type_name}')
    return problems


def _check_union(value: Any, types: list[str], path: str) -> list[str]:
    """Value must match one of ``types``; report the problems of the closest candidate."""
    if isinstance(value, list) and len(types) > 1 and all(t.startswith("Array of ") for t in types):
        # "Array of A | Array of B" documents a list mixing A and B items (e.g. media groups).
        element_types = [t[len("Array of ") :] for t in types]
        problems: list[str] = []
        for idx, item in enumerate(value):
            problems += _check_union(item, element_types, f"{path}[{idx}]")
        return problems
    if isinstance(value, dict) and "type" in value:
        # Pick abstract subtypes / unions by their "type" discriminator when possible.
        expanded: list[str] = []
        for t in types:
            sub = (load_spec()["types"].get(t) or {}).get("subtypes")
            expanded += sub if sub else [t]
        matching = [t for t in expanded if _discriminator(t) == value["type"]]
        if matching:
            types = matching
    best: list[str] | None = None
    for t in types:
        problems = _check_value(value, t, path)
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or [f"{path}: no type given"]


#: python-telegram-bot sends every message through one internal method that always adds these
#: (filled from ``Defaults``), also to methods such as sendLocation that have no text to format.
#: Telegram ignores them there; any other unknown parameter is still refused.
SHARED_SEND_PARAMETERS = frozenset({"parse_mode", "link_preview_options"})


def check_call(method: str, params: dict[str, Any]) -> list[str]:
    """Problems of a call (already decoded params) against the spec; empty list when fine.

    Reports an unknown method, unknown parameters, missing required parameters and values
    (recursively: reply_markup, buttons, media, entities...) that do not match their types.
    """
    canonical = method_name(method)
    if canonical is None:
        return [f"unknown method {method}"]
    fields = _fields("methods", canonical)
    problems = [
        f'unknown parameter "{key}"'
        for key in params
        if key not in fields and key not in SHARED_SEND_PARAMETERS
    ]
    for name, field in fields.items():
        if name not in params or params[name] is None:
            if field["required"]:
                problems.append(f'missing required parameter "{name}"')
            continue
        problems += _check_union(params[name], field["types"], name)
    return problems


def check_object(value: Any, type_name: str) -> list[str]:
    """Problems of a Bot API object (e.g. an Update or Message the emulator produced)."""
    return _check_value(value, type_name, type_name)
