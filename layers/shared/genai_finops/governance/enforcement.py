"""Enforcement of environment caps: an inline IAM deny policy on the environment's roles."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import FinOpsError

if TYPE_CHECKING:
    import boto3

DENY_ACTIONS = ("bedrock:InvokeModel*", "bedrock:Converse*")


class EnforcementError(FinOpsError):
    """Attaching or removing a cap's deny policy failed."""


def deny_policy_name(environment: str) -> str:
    """Return the inline policy name used for an environment's cap (IAM allows [\\w+=,.@-], 128 characters)."""
    return f"genai-finops-cap-{environment}"[:128]


def deny_policy_document() -> str:
    """Return the deny policy: no Bedrock model invocation or Converse call on any resource."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "GenAIFinOpsBudgetCap", "Effect": "Deny", "Action": list(DENY_ACTIONS), "Resource": "*"}
            ],
        }
    )


class Enforcer(Protocol):
    """Attaches and removes a cap's deny policy on one role."""

    def attach_deny(self, role_name: str, policy_name: str) -> None: ...

    def remove_deny(self, role_name: str, policy_name: str) -> None: ...


class IamEnforcer:
    """Enforcer over IAM inline role policies (PutRolePolicy and DeleteRolePolicy)."""

    def __init__(self, session: boto3.Session) -> None:
        self._iam = session.client("iam")

    def attach_deny(self, role_name: str, policy_name: str) -> None:
        try:
            self._iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=deny_policy_document())
        except (ClientError, BotoCoreError) as error:
            raise EnforcementError(
                f"attaching deny policy {policy_name} to role {role_name} failed: {error}"
            ) from error

    def remove_deny(self, role_name: str, policy_name: str) -> None:
        try:
            self._iam.delete_role_policy(RoleName=role_name, PolicyName=policy_name)
        except self._iam.exceptions.NoSuchEntityException:
            # Already removed (by hand or by an earlier run): the goal of this call is met.
            return
        except (ClientError, BotoCoreError) as error:
            raise EnforcementError(
                f"removing deny policy {policy_name} from role {role_name} failed: {error}"
            ) from error
