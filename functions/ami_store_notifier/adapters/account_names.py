"""Account names from AWS Organizations, for the hub's messages to people."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from ami_store_notifier.adapters.aws import error_code

if TYPE_CHECKING:
    from types_boto3_organizations import OrganizationsClient

logger = logging.getLogger(__name__)


class OrganizationAccountNames:
    """`names(account_id)`: the account's name, or None where the hub may not read it. Only the
    Organization's management account and its delegated administrators may call DescribeAccount
    (AWS Organizations API reference); elsewhere the first refusal is logged and no more calls are made.
    Names are kept for the life of the execution environment."""

    def __init__(self, organizations_client: OrganizationsClient) -> None:
        self._organizations = organizations_client
        self._names: dict[str, str | None] = {}
        self._refused = False

    def __call__(self, account_id: str) -> str | None:
        if self._refused:
            return None
        if account_id not in self._names:
            self._names[account_id] = self._describe(account_id)
        return self._names[account_id]

    def _describe(self, account_id: str) -> str | None:
        try:
            return self._organizations.describe_account(AccountId=account_id)["Account"].get("Name")
        except (ClientError, BotoCoreError) as error:
            code = error_code(error)
            if code in {"AccessDeniedException", "AWSOrganizationsNotInUseException"}:
                self._refused = True
                logger.warning(
                    "Account names are not readable here; messages show account ids only",
                    extra={"errorCode": code},
                )
            else:
                logger.warning("Account name not read", extra={"account": account_id, "errorCode": code})
            return None
