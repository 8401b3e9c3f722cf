"""A record's storage layout derived from its dataclass fields: one field table, read in both directions.

Each field of a domain record becomes a PynamoDB attribute named in camelCase, with a codec chosen
from the field's type (text, number, flag, enum, instant, map, list, nested record), so adding a
field to the record adds it to the table with no code here. An item written before a field existed
reads back with the field's default.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic.alias_generators import to_camel
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.expressions.operand import Path

from chalicelib.domain.clock import from_iso, to_iso


def _optional(hint: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True  # noqa: UP007
    return hint, False


def to_plain(value: Any, hint: Any) -> Any:
    """A field's value as DynamoDB-ready Python: text, numbers, flags, dicts and lists."""
    hint, _ = _optional(hint)
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return to_iso(value)
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return {to_camel(f.name): to_plain(getattr(value, f.name), hints[f.name]) for f in dataclasses.fields(hint)}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (dict, Mapping):
        return {str(key): to_plain(item, args[1]) for key, item in value.items()}
    if origin in (tuple, list):
        return [to_plain(item, args[0]) for item in value]
    return value


def from_plain(value: Any, hint: Any) -> Any:
    """The inverse of to_plain, for a value read back from DynamoDB."""
    hint, _ = _optional(hint)
    if value is None:
        return None
    if isinstance(value, MapAttribute):
        value = value.as_dict()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if hint is datetime:
        return from_iso(value)
    if hint in (int, float):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        fields = dataclasses.fields(hint)
        return hint(**{f.name: from_plain(value.get(to_camel(f.name)), hints[f.name]) for f in fields})
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (dict, Mapping):
        return {key: from_plain(item, args[1]) for key, item in value.items()}
    if origin is tuple:
        return tuple(from_plain(item, args[0]) for item in value)
    if origin is list:
        return [from_plain(item, args[0]) for item in value]
    return value


def _attribute_for(hint: Any, attr_name: str, nullable: bool) -> Attribute[Any]:
    base, optional = _optional(hint)
    null = nullable or optional
    if base in (int, float):
        return NumberAttribute(attr_name=attr_name, null=null)
    if base is bool:
        return BooleanAttribute(attr_name=attr_name, null=null)
    origin = typing.get_origin(base)
    if dataclasses.is_dataclass(base) or origin in (dict, Mapping):
        return MapAttribute(attr_name=attr_name, null=null)
    if origin in (tuple, list):
        return ListAttribute(attr_name=attr_name, null=null)
    return UnicodeAttribute(attr_name=attr_name, null=null)  # text, enums and instants


@dataclass(frozen=True)
class FieldTable:
    """Every field of `record_type` but those in `declared` (keys and indexes the item class writes itself)."""

    record_type: type
    declared: frozenset[str]
    defaults: Callable[[str], Any]

    @property
    def hints(self) -> dict[str, Any]:
        return typing.get_type_hints(self.record_type)

    @property
    def names(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.record_type) if f.name not in self.declared]

    def attributes(self) -> dict[str, Attribute[Any]]:
        # Nullable in storage: an item written before the field existed simply lacks it.
        hints = self.hints
        return {name: _attribute_for(hints[name], to_camel(name), nullable=True) for name in self.names}

    def path(self, name: str, *inside: str) -> Path:
        """The stored attribute of field `name` (or a key inside its map), for a condition on it."""
        return Path([to_camel(name), *inside])

    def dump(self, record: Any) -> dict[str, Any]:
        hints = self.hints
        return {name: to_plain(getattr(record, name), hints[name]) for name in self.names}

    def load(self, item: Any, names: Iterable[str] | None = None) -> dict[str, Any]:
        hints, values = self.hints, {}
        for name in names if names is not None else self.names:
            stored = getattr(item, name)
            values[name] = (
                self.defaults(name)
                if stored is None and not _optional(hints[name])[1]
                else (from_plain(stored, hints[name]))
            )
        return values
