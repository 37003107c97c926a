"""The state table's attribute values: written from Python values by boto3's TypeSerializer, read back
by its TypeDeserializer, and narrowed to what the reader expects.

An item read back is `Item`: its numbers come back as Decimal, its sets as sets, its maps as dicts. What
the table holds was written by this code, so a value of another type than expected is a bug, or an item
edited by hand: the narrowing raises TypeError then, as `int(None)` and the like did before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from types_boto3_dynamodb.type_defs import AttributeValueTypeDef

# An attribute's value as the code writes it (int, str, set...) or reads it back (Decimal...).
ItemValue: TypeAlias = (
    str
    | int
    | Decimal
    | bool
    | set[str]
    | set[int]
    | set[Decimal]
    | Sequence["ItemValue"]
    | Mapping[str, "ItemValue"]
    | None
)
Item: TypeAlias = Mapping[str, ItemValue]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, object]) -> dict[str, AttributeValueTypeDef]:
    """An item or a request's values as DynamoDB takes them; TypeSerializer refuses a type it cannot
    write (TypeError)."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_item(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, ItemValue]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def number(value: ItemValue) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"not a number attribute: {value!r}")
    return int(value)


def text(value: ItemValue) -> str:
    if not isinstance(value, str):
        raise TypeError(f"not a string attribute: {value!r}")
    return value


def text_or_none(value: ItemValue) -> str | None:
    return None if value is None else text(value)


def mapping(value: ItemValue) -> Mapping[str, ItemValue]:
    """A map attribute; an absent one (None) is empty."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"not a map attribute: {value!r}")
    return value


def members(value: ItemValue) -> list[ItemValue]:
    """A set's or a list's members; an absent attribute (None) has none."""
    if value is None:
        return []
    if isinstance(value, str | Mapping) or not isinstance(value, set | Sequence):
        raise TypeError(f"not a set or list attribute: {value!r}")
    found: list[ItemValue] = [*value]
    return found
