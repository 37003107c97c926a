"""EC2 query-protocol glue: the three actions as methods of moto's `EC2Response`, answering EC2 XML."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from xml.sax.saxutils import escape

from moto.ec2.responses import EC2Response

from .api import CREATE_RESTORE, CREATE_STORE, DESCRIBE_STORE, StoreTaskError
from .backend import StoreTaskBackend
from .describe import DescribePage
from .registry import hook_moto_reset, store_tasks_backend
from .s3_events import install_s3_events, s3_events_installed

EC2_XMLNS: Final = "http://ec2.amazonaws.com/doc/2016-11-15/"
CONTENT_TYPE: Final = "text/xml;charset=UTF-8"
MOTO_UNKNOWN_ACCESS_KEY: Final = "AKIAEXAMPLE"

ResponseTuple = tuple[str, dict[str, Any]]


def iso_millis(when: datetime) -> str:
    """EC2's timestamp format: ISO 8601 UTC with milliseconds and a Z, e.g. 2024-05-01T10:00:00.000Z."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _element(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def render_result(operation: str, inner: str, request_id: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{operation}Response xmlns="{EC2_XMLNS}">'
        f"{_element('requestId', request_id)}{inner}"
        f"</{operation}Response>"
    )


def render_error(error: StoreTaskError, request_id: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Response><Errors><Error>"
        f"{_element('Code', error.code)}{_element('Message', error.message)}"
        f"</Error></Errors>{_element('RequestID', request_id)}</Response>"
    )


def render_describe(page: DescribePage) -> str:
    items = []
    for result in page.results:
        parts = [
            _element("amiId", result.ami_id),
            _element("taskStartTime", iso_millis(result.task_start_time)),
            _element("bucket", result.bucket),
            _element("s3objectKey", result.s3_object_key),
            _element("progressPercentage", result.progress_percentage),
            _element("storeTaskState", result.store_task_state),
        ]
        if result.store_task_failure_reason is not None:
            parts.append(_element("storeTaskFailureReason", result.store_task_failure_reason))
        items.append(f"<item>{''.join(parts)}</item>")
    inner = f"<storeImageTaskResultSet>{''.join(items)}</storeImageTaskResultSet>"
    if page.next_token is not None:
        inner += _element("nextToken", page.next_token)
    return inner


# ----- request parameters -------------------------------------------------------------------------


def _param(response: Any, name: str) -> Any:
    return response._get_param(name)


def _str_param(response: Any, name: str) -> str | None:
    value = _param(response, name)
    return None if value is None else str(value)


def _bool_param(response: Any, name: str) -> bool:
    value = _param(response, name)
    return value is True or str(value).lower() == "true"


def _int_param(response: Any, name: str) -> int | None:
    value = _param(response, name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StoreTaskError(
            "InvalidParameterValue", f"Value ({value}) for parameter {name} is invalid: not an integer."
        ) from None


def _list_param(response: Any, name: str) -> list[Any]:
    value = _param(response, name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _pairs(items: list[Any]) -> list[tuple[str, str]]:
    return [(str(i.get("Key", "")), str(i.get("Value", ""))) for i in items if isinstance(i, dict)]


# ----- the actions --------------------------------------------------------------------------------


def _access_key(response: Any) -> str | None:
    """The request's access key, for CloudTrail's record of the call; None where moto could not read it
    (it then answers its placeholder)."""
    key = str(response.get_access_key())
    return None if key == MOTO_UNKNOWN_ACCESS_KEY else key


def _create_store(backend: StoreTaskBackend, response: Any) -> str:
    key = backend.create_store_image_task(
        _str_param(response, "ImageId"),
        _str_param(response, "Bucket"),
        object_tags=_pairs(_list_param(response, "S3ObjectTags")),
        dry_run=_bool_param(response, "DryRun"),
        access_key_id=_access_key(response),
    )
    return _element("objectKey", key)


def _describe(backend: StoreTaskBackend, response: Any) -> str:
    page = backend.describe_store_image_tasks(
        image_ids=[str(i) for i in _list_param(response, "ImageIds")],
        filters=[f for f in _list_param(response, "Filters") if isinstance(f, dict)],
        next_token=_str_param(response, "NextToken"),
        max_results=_int_param(response, "MaxResults"),
        dry_run=_bool_param(response, "DryRun"),
    )
    return render_describe(page)


def _create_restore(backend: StoreTaskBackend, response: Any) -> str:
    tags: dict[str, str] = {}
    for spec in _list_param(response, "TagSpecifications"):
        if isinstance(spec, dict) and spec.get("ResourceType") == "image":
            tags.update(_pairs(list(spec.get("Tags") or [])))
    image_id = backend.create_restore_image_task(
        _str_param(response, "Bucket"),
        _str_param(response, "ObjectKey"),
        _str_param(response, "Name"),
        image_tags=tags,
        dry_run=_bool_param(response, "DryRun"),
    )
    return _element("imageId", image_id)


Handler = Callable[[StoreTaskBackend, Any], str]


def _action(operation: str, handler: Handler) -> Callable[[Any], ResponseTuple]:
    def action(self: Any) -> ResponseTuple:
        request_id = str(uuid.uuid4())
        headers: dict[str, Any] = {"Content-Type": CONTENT_TYPE}
        try:
            inner = handler(store_tasks_backend(self.current_account, self.region), self)
        except StoreTaskError as error:
            return render_error(error, request_id), {**headers, "status": error.status}
        return render_result(operation, inner, request_id), {**headers, "status": 200}

    action.__name__ = action.__qualname__ = _snake(operation)
    action.__doc__ = f"{operation}, emulated by local.ec2_store_tasks."
    action._ec2_store_tasks = True  # type: ignore[attr-defined]
    return action


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


ACTIONS: Final = {
    CREATE_STORE: _action(CREATE_STORE, _create_store),
    DESCRIBE_STORE: _action(DESCRIBE_STORE, _describe),
    CREATE_RESTORE: _action(CREATE_RESTORE, _create_restore),
}


def install() -> None:
    """Add the three actions to moto's EC2Response (idempotent; before or after `mock_aws()` starts).

    moto dispatches each EC2 request to the snake_case method of its action, looked up on every
    request, so this serves in-process `mock_aws()` and moto's server mode alike. It also makes moto's
    reset restart the emulator clock (the backends themselves are moto backends, reset by moto), and
    makes moto's S3 send its EventBridge events as S3 does (s3_events.py).
    """
    hook_moto_reset()
    install_s3_events()
    for operation, action in ACTIONS.items():
        if getattr(EC2Response, _snake(operation), None) is not action:
            setattr(EC2Response, _snake(operation), action)


def installed() -> bool:
    return s3_events_installed() and all(
        getattr(EC2Response, _snake(op), None) is action for op, action in ACTIONS.items()
    )
