"""Account names from AWS Organizations, for the hub's messages to people."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from ami_store_notifier.adapters.aws import error_code

if TYPE_CHECKING:
    from types_boto3_organizations import OrganizationsClient

logger = logging.getLogger(__name__)

# DescribeAccount's errors that the same call would get again (botocore's Organizations model): the hub
# may not read names at all (it is not the management account or a delegated administrator, or is in no
# Organization)...
_NOT_READABLE_HERE = frozenset({"AccessDeniedException", "AWSOrganizationsNotInUseException"})
# ...or the account has none to give: "We can't find an Amazon Web Services account with the AccountId
# that you specified", or the id is malformed.
_NO_SUCH_ACCOUNT = frozenset({"AccountNotFoundException", "InvalidInputException"})
# Every other failure (TooManyRequestsException, ServiceException: "Try again later"; no answer) passes:
# no call is made for this long, then the names are asked again.
RETRY_AFTER_SECONDS = 60.0


class OrganizationAccountNames:
    """`names(account_id)`: the account's name, or None where the hub may not read it. Only the
    Organization's management account and its delegated administrators may call DescribeAccount
    (AWS Organizations API reference); elsewhere the first refusal is logged and no more calls are made.
    Names, and accounts that have none, are kept for the life of the execution environment; a throttled
    or failed call is not kept, and is made again after `RETRY_AFTER_SECONDS`."""

    def __init__(
        self, organizations_client: OrganizationsClient, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._organizations = organizations_client
        self._clock = clock
        self._names: dict[str, str | None] = {}
        self._refused = False
        self._paused_until = float("-inf")

    def __call__(self, account_id: str) -> str | None:
        if self._refused or self._clock() < self._paused_until:
            return self._names.get(account_id)
        if account_id not in self._names:
            return self._describe(account_id)
        return self._names[account_id]

    def _describe(self, account_id: str) -> str | None:
        try:
            name = self._organizations.describe_account(AccountId=account_id)["Account"].get("Name")
        except (ClientError, BotoCoreError) as error:
            self._failed(account_id, error_code(error))
            return None
        self._names[account_id] = name
        return name

    def _failed(self, account_id: str, code: str) -> None:
        if code in _NOT_READABLE_HERE:
            self._refused = True
            logger.warning(
                "Account names are not readable here; messages show account ids only",
                extra={"errorCode": code},
            )
        elif code in _NO_SUCH_ACCOUNT:
            self._names[account_id] = None
            logger.warning("Account has no name to read", extra={"account": account_id, "errorCode": code})
        else:
            self._paused_until = self._clock() + RETRY_AFTER_SECONDS
            logger.warning(
                "Account name not read; asking again in a minute",
                extra={"account": account_id, "errorCode": code},
            )
