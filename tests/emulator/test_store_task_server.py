"""The emulator over HTTP: moto's ThreadedMotoServer, boto3 and raw botocore clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from local.ec2_store_tasks import endpoint_url, store_tasks_backend
from local.ec2_store_tasks.server import reset_server
from tests.world import ACCOUNT, REGION


def client_of(session: boto3.session.Session, moto_server: ThreadedMotoServer, service: str) -> Any:
    return session.client(service, endpoint_url=endpoint_url(moto_server))


def test_create_and_describe_work_over_http_in_server_mode(
    server: ThreadedMotoServer, boto_session: boto3.session.Session
) -> None:
    ec2, s3 = client_of(boto_session, server, "ec2"), client_of(boto_session, server, "s3")
    s3.create_bucket(Bucket="server-bucket")
    ami_id = ec2.register_image(Name="served")["ImageId"]

    assert ec2.create_store_image_task(ImageId=ami_id, Bucket="server-bucket")["ObjectKey"] == f"{ami_id}.bin"
    [task] = ec2.describe_store_image_tasks()["StoreImageTaskResults"]
    assert (task["AmiId"], task["StoreTaskState"]) == (ami_id, "InProgress")

    store_tasks_backend(ACCOUNT, REGION).clock.advance(300)
    [task] = ec2.describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"]
    assert task["StoreTaskState"] == "Completed"
    assert s3.head_object(Bucket="server-bucket", Key=f"{ami_id}.bin")["ContentLength"] > 0

    with pytest.raises(ClientError) as err:
        ec2.describe_store_image_tasks(DryRun=True)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_a_raw_botocore_paginator_walks_all_pages(server: ThreadedMotoServer) -> None:
    store_tasks = store_tasks_backend(ACCOUNT, REGION)
    now = store_tasks.clock.now()
    for i in range(25):
        store_tasks.add_task(f"ami-{i:017x}", "bucket-a", now - timedelta(minutes=i))
    client = botocore.session.get_session().create_client(
        "ec2",
        region_name=REGION,
        endpoint_url=endpoint_url(server),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    pages = list(
        client.get_paginator("describe_store_image_tasks").paginate(PaginationConfig={"PageSize": 10})
    )

    assert [len(p["StoreImageTaskResults"]) for p in pages] == [10, 10, 5]
    listed = [t["AmiId"] for p in pages for t in p["StoreImageTaskResults"]]
    assert listed == [f"ami-{i:017x}" for i in range(25)]


def test_moto_api_reset_clears_the_store_tasks(
    server: ThreadedMotoServer, boto_session: boto3.session.Session
) -> None:
    store_tasks = store_tasks_backend(ACCOUNT, REGION)
    store_tasks.add_task("ami-0000000000000000a", "bucket-a")
    store_tasks.clock.advance(86400)

    reset_server(server)

    assert abs(store_tasks.clock.now() - datetime.now(UTC)) < timedelta(minutes=1)
    assert client_of(boto_session, server, "ec2").describe_store_image_tasks()["StoreImageTaskResults"] == []
    assert store_tasks_backend(ACCOUNT, REGION).tasks() == []
