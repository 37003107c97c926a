"""DynamoDB's ClientRequestToken rules for TransactWriteItems (local.dynamodb_tokens), which moto ignores."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from local.deployment import create_table
from local.dynamodb_tokens import IDEMPOTENCY_WINDOW, client_tokens
from local.ec2_store_tasks import CLOCK, endpoint_url
from tests.emulator.conftest import TOKEN_TABLE
from tests.world import ACCOUNT, REGION

TOKEN = "4c1a1f0e-3c55-4a52-9a0e-2d3b8d0f6a11"
MISMATCH = "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException"


def count_up(dynamodb: Any, token: str, *, by: int = 1, pk: str = "counter") -> dict[str, Any]:
    """One transaction that adds `by` to the item's count: a second write shows in the count."""
    response: dict[str, Any] = dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TOKEN_TABLE,
                    "Key": {"pk": {"S": pk}},
                    "UpdateExpression": "ADD #count :by",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {":by": {"N": str(by)}},
                }
            }
        ],
        ClientRequestToken=token,
    )
    return response


def count_of(dynamodb: Any, pk: str = "counter") -> int | None:
    item = dynamodb.get_item(TableName=TOKEN_TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")
    return None if item is None else int(item["count"]["N"])


def create_if_absent(dynamodb: Any, token: str, pk: str) -> None:
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TOKEN_TABLE,
                    "Item": {"pk": {"S": pk}, "count": {"N": "100"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ],
        ClientRequestToken=token,
    )


def test_the_same_token_with_other_parameters_within_ten_minutes_is_refused_with_dynamodbs_error(
    dynamodb: Any,
) -> None:
    count_up(dynamodb, TOKEN)
    CLOCK.advance(IDEMPOTENCY_WINDOW.total_seconds() - 1)

    with pytest.raises(dynamodb.exceptions.IdempotentParameterMismatchException) as refused:
        count_up(dynamodb, TOKEN, by=5)

    assert refused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert count_of(dynamodb) == 1
    assert client_tokens(ACCOUNT, REGION).refused == [TOKEN]


def test_the_same_token_and_parameters_after_a_success_succeed_and_write_nothing_again(
    dynamodb: Any,
) -> None:
    count_up(dynamodb, TOKEN)
    CLOCK.advance(IDEMPOTENCY_WINDOW.total_seconds() - 1)

    count_up(dynamodb, TOKEN)

    assert count_of(dynamodb) == 1
    assert client_tokens(ACCOUNT, REGION).refused == []


def test_ten_minutes_after_the_first_completion_the_token_starts_a_new_request(dynamodb: Any) -> None:
    count_up(dynamodb, TOKEN)
    CLOCK.advance(IDEMPOTENCY_WINDOW.total_seconds() - 60)
    count_up(dynamodb, TOKEN)  # a replay does not extend the window
    CLOCK.advance(60)

    count_up(dynamodb, TOKEN)
    CLOCK.advance(IDEMPOTENCY_WINDOW.total_seconds())
    count_up(dynamodb, TOKEN, by=10)

    assert count_of(dynamodb) == 1 + 1 + 10


def test_a_cancelled_transaction_holds_its_token_for_its_parameters_and_a_retry_is_evaluated_again(
    dynamodb: Any,
) -> None:
    count_up(dynamodb, TOKEN, pk="taken")
    create_token = "0d6f3c1e-7a5b-4f0e-8a57-3bd7f1a0c9e2"
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        create_if_absent(dynamodb, create_token, "taken")

    with pytest.raises(dynamodb.exceptions.IdempotentParameterMismatchException):
        create_if_absent(dynamodb, create_token, "free")
    dynamodb.delete_item(TableName=TOKEN_TABLE, Key={"pk": {"S": "taken"}})
    create_if_absent(dynamodb, create_token, "taken")

    assert count_of(dynamodb, "taken") == 100
    assert count_of(dynamodb, "free") is None


def test_tokens_are_held_per_account_and_region(dynamodb: Any, boto_session: boto3.session.Session) -> None:
    count_up(dynamodb, TOKEN)
    elsewhere = boto_session.client("dynamodb", region_name="eu-west-1")
    create_table(elsewhere, TOKEN_TABLE)

    count_up(elsewhere, TOKEN, by=5)

    assert (count_of(dynamodb), count_of(elsewhere)) == (1, 5)


def raw_transaction(server: ThreadedMotoServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """TransactWriteItems as bytes on the wire, the way DynamoDB's JSON 1.0 protocol sends it."""
    request = urllib.request.Request(
        endpoint_url(server),
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.TransactWriteItems",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_in_server_mode_a_refusal_is_dynamodbs_wire_error_and_a_request_without_a_token_is_not_held(
    server: ThreadedMotoServer, boto_session: boto3.session.Session
) -> None:
    client = boto_session.client("dynamodb", endpoint_url=endpoint_url(server))
    create_table(client, TOKEN_TABLE)

    def add(by: int, token: str | None) -> dict[str, Any]:
        update = {
            "TableName": TOKEN_TABLE,
            "Key": {"pk": {"S": "counter"}},
            "UpdateExpression": "ADD #count :by",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": {":by": {"N": str(by)}},
        }
        body: dict[str, Any] = {"TransactItems": [{"Update": update}]}
        return body if token is None else {**body, "ClientRequestToken": token}

    assert raw_transaction(server, add(1, TOKEN))[0] == 200
    assert raw_transaction(server, add(1, TOKEN))[0] == 200
    status, refused = raw_transaction(server, add(2, TOKEN))
    assert raw_transaction(server, add(3, None))[0] == 200
    assert raw_transaction(server, add(3, None))[0] == 200

    assert (status, refused["__type"]) == (400, MISMATCH)
    with pytest.raises(ClientError) as through_botocore:
        count_up(client, TOKEN, by=2, pk="counter")
    assert through_botocore.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert count_of(client) == 1 + 3 + 3
