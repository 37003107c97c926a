"""How a setting is declared, and how its value is read: from JSON (cdk.json) or a string (`-c key=value`,
an environment variable), checked, and written back into the function's environment."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ami_store_notifier.domain.model import TaskState

REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})

# What a parser returns: text, a number or flag (`bool` is an `int`), or a list (a tuple of names, task
# states included); None where a setting without a default is left unset.
SettingValue = str | int | tuple[str, ...] | None
Parser = Callable[[object, str], SettingValue]


class SettingError(ValueError):
    """A setting is missing or malformed; the message starts with the name it was read under."""


@dataclass(frozen=True)
class Setting:
    """One setting. ``key`` is None for what the stack sets itself; ``variable`` is None for what only
    the deployment uses."""

    key: str | None
    variable: str | None
    parse: Parser
    meaning: str
    default: SettingValue = None
    allowed: str | None = None  # the docs' wording; a range's own description when None
    shown_default: str | None = None  # the docs' wording where the default is not a literal value
    required: bool = False

    @property
    def field(self) -> str:
        """The attribute of the parsed settings, on the CDK side and in the handler alike."""
        if self.key is not None:
            return re.sub(r"(?<!^)([A-Z])", r"_\1", self.key).lower()
        assert self.variable is not None
        return self.variable.lower()

    def read(self, raw: object, name: str) -> SettingValue:
        if not is_absent(raw):
            return self.parse(raw, name)
        if self.required:
            raise SettingError(f"{name} is required but not set")
        return self.default

    def documented_allowed(self) -> str:
        return self.allowed if self.allowed is not None else str(getattr(self.parse, "allowed", ""))

    def documented_default(self) -> str:
        if self.required:
            return "required"
        if self.shown_default is not None:
            return self.shown_default
        return f"`{to_environment(self.default)}`"


def is_absent(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def to_environment(value: object) -> str:
    """How a parsed value is written into the function's environment (and read back by the parser)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return str(value)


@dataclass(frozen=True)
class WholeNumber:
    low: int
    high: int

    @property
    def allowed(self) -> str:
        return f"{self.low}-{self.high}"

    def __call__(self, raw: object, name: str) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise SettingError(f"{name} must be a whole number, got {raw!r}")
        try:
            value = int(raw.strip()) if isinstance(raw, str) else raw
        except ValueError:
            raise SettingError(f"{name} must be a whole number, got {raw!r}") from None
        if not self.low <= value <= self.high:
            raise SettingError(f"{name} must be between {self.low} and {self.high}, got {value}")
        return value


@dataclass(frozen=True)
class OneOfNumbers:
    choices: tuple[int, ...]

    @property
    def allowed(self) -> str:
        return f"one of {', '.join(map(str, self.choices))}"

    def __call__(self, raw: object, name: str) -> int:
        value = WholeNumber(min(self.choices), max(self.choices))(raw, name)
        if value not in self.choices:
            raise SettingError(f"{name} must be {self.allowed}, got {value}")
        return value


def boolean(raw: object, name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE:
        return True
    if isinstance(raw, str) and raw.strip().lower() in _FALSE:
        return False
    raise SettingError(f"{name} must be true or false, got {raw!r}")


def matching(pattern: str, what: str, *, reserved: Callable[[str], str | None] = lambda _: None) -> Parser:
    """A string that matches `pattern`; `reserved` names why a matching value is still refused."""
    compiled = re.compile(pattern)

    def parse(raw: object, name: str) -> str:
        if not isinstance(raw, str) or not compiled.fullmatch(raw.strip()):
            raise SettingError(f"{name} must be {what}, got {raw!r}")
        refusal = reserved(raw.strip())
        if refusal is not None:
            raise SettingError(f"{name} {refusal}, got {raw.strip()!r}")
        return raw.strip()

    return parse


# Parsers that more than one setting uses.
stack_name = matching(r"[A-Za-z][A-Za-z0-9-]{0,127}", "a CloudFormation stack name")
email_address = matching(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+", "an email address")


def _string_list(raw: object, name: str) -> list[str]:
    if isinstance(raw, str):
        parts = raw.split(",")
    elif isinstance(raw, list) and all(isinstance(part, str) for part in raw):
        parts = list(raw)
    else:
        raise SettingError(f"{name} must be a comma-separated string or a list of strings, got {raw!r}")
    items = list(dict.fromkeys(part.strip() for part in parts if part.strip()))
    if not items:
        raise SettingError(f"{name} must name at least one value, got {raw!r}")
    return items


def regions(raw: object, name: str) -> tuple[str, ...]:
    items = _string_list(raw, name)
    bad = [item for item in items if not REGION_PATTERN.fullmatch(item)]
    if bad:
        raise SettingError(f"{name} must list region names such as us-east-1, got {', '.join(bad)}")
    return tuple(items)


# An organizational unit id, or the Organization's root id (AWS Organizations API reference).
ORGANIZATIONAL_UNIT_PATTERN = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}")


def organizational_units(raw: object, name: str) -> tuple[str, ...]:
    items = _string_list(raw, name)
    bad = [item for item in items if not ORGANIZATIONAL_UNIT_PATTERN.fullmatch(item)]
    if bad:
        raise SettingError(
            f"{name} must list organizational unit ids (ou-...) or the root id (r-...), got {', '.join(bad)}"
        )
    return tuple(items)


def task_states(raw: object, name: str) -> tuple[TaskState, ...]:
    canonical = {state.value.lower(): state for state in TaskState.known()}
    items = _string_list(raw, name)
    unknown = [item for item in items if item.lower() not in canonical]
    if unknown:
        known = ", ".join(state.value for state in TaskState.known())
        raise SettingError(f"{name} may list only {known}, got {', '.join(unknown)}")
    return tuple(dict.fromkeys(canonical[item.lower()] for item in items))


# An S3 bucket name (S3 user guide, "General purpose bucket naming rules"): 3-63 lower-case letters, digits,
# dots and hyphens, beginning and ending with a letter or digit.
BUCKET_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
# A name's beginning, ending in `*`: S3's naming rules leave `*` out of every name.
BUCKET_PREFIX_PATTERN = re.compile(r"[a-z0-9][a-z0-9.\-]{0,61}\*")


# Lambda allows 4 KB of environment variables in all ("Lambda quotas"); 25 names of up to 63 characters
# take 1.6 KB, and keep the role's S3 statements well inside IAM's inline policy size.
MAX_BUCKETS = 25


def _bucket_list(raw: object, name: str) -> list[str]:
    items = _string_list(raw, name)
    if len(items) > MAX_BUCKETS:
        raise SettingError(f"{name} may list at most {MAX_BUCKETS} buckets, got {len(items)}")
    return items


def bucket_names(raw: object, name: str) -> tuple[str, ...]:
    items = _bucket_list(raw, name)
    bad = [item for item in items if not BUCKET_NAME_PATTERN.fullmatch(item)]
    if bad:
        raise SettingError(f"{name} must list S3 bucket names, got {', '.join(bad)}")
    return tuple(items)


def bucket_names_or_prefixes(raw: object, name: str) -> tuple[str, ...]:
    items = _bucket_list(raw, name)
    bad = [
        item
        for item in items
        if not (BUCKET_NAME_PATTERN.fullmatch(item) or BUCKET_PREFIX_PATTERN.fullmatch(item))
    ]
    if bad:
        raise SettingError(
            f"{name} must list S3 bucket names, or beginnings of names ending in '*', got {', '.join(bad)}"
        )
    return tuple(items)


def required_text(raw: object, name: str) -> str:
    if not isinstance(raw, str):
        raise SettingError(f"{name} must be a string, got {raw!r}")
    return raw.strip()
