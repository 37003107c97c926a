"""The hint runs' shared allowance of DescribeStoreImageTasks calls, on moto's DynamoDB."""

from __future__ import annotations

from datetime import timedelta

from ami_store_notifier.adapters.hint_call_allowance import HintCallAllowance
from local.deployment import LocalDeployment
from local.ec2_store_tasks import CLOCK
from tests.world import REGION


def allowance(deployment: LocalDeployment, client, *, region: str = REGION) -> HintCallAllowance:
    return HintCallAllowance(
        client, table_name=deployment.table_name, region=region, per_minute=4, clock=CLOCK.now
    )


def test_runs_of_one_minute_share_its_calls_and_a_later_run_gets_what_is_left(deployment, state_client):
    CLOCK.set(CLOCK.now().replace(second=5))
    first, second, third = (allowance(deployment, state_client) for _ in range(3))

    assert first.take(3) == 3
    assert second.take(3) == 1
    assert third.take(1) == 0


def test_the_next_minute_and_another_region_have_calls_of_their_own(deployment, state_client):
    CLOCK.set(CLOCK.now().replace(second=5))
    assert allowance(deployment, state_client).take(10) == 4

    assert allowance(deployment, state_client, region="eu-central-1").take(2) == 2
    CLOCK.advance(timedelta(minutes=1).total_seconds())
    assert allowance(deployment, state_client).take(2) == 2


def test_a_minutes_count_expires_with_the_tables_time_to_live(deployment, state_client):
    allowance(deployment, state_client).take(1)

    [item] = state_client.scan(TableName=deployment.table_name)["Items"]

    assert item["pk"]["S"].startswith(f"HINTCALLS#{REGION}#")
    assert int(item["expiresAt"]["N"]) > CLOCK.now().timestamp()
