"""IAM principal ARNs with their personal part replaced by a keyed hash.

Bedrock invocation logs (``identity.arn``) and CUR 2.0 (``line_item_iam_principal``) name the caller
of each request. The session name of an assumed role is often the person's e-mail address (IAM
Identity Center sessions use the user name), and IAM user and federated user names are often personal
names. So before a principal is stored, that last part becomes ``hmac-`` and 16 hex digits of
HMAC-SHA256 under the same key as ``user_key``. The account, the role and the kind of principal stay
readable, and both sources mask the same name the same way, so bill lines still match requests.
"""

from __future__ import annotations

import hashlib
import hmac
import re

MASK_PREFIX = "hmac-"
MASK_HEX_DIGITS = 16

# The name after the last "/" is personal for these kinds. Role ARNs, the account root and service
# principals name no person and are kept as they are.
_PERSONAL_NAME = re.compile(
    r"^(?P<kept>arn:aws[a-z-]*:(?:sts::\d*:assumed-role/[^/]+/|sts::\d*:federated-user/|iam::\d*:user/(?:.*/)?))"
    r"(?P<name>[^/]+)$"
)
_ARN = re.compile(r"^arn:aws[a-z-]*:")
# IAM users that Bedrock creates for API keys are named BedrockAPIKey-<id>: a key id, not a person.
_API_KEY_USER = "BedrockAPIKey-"


def _keyed_hash(key: bytes, name: str) -> str:
    # The "iam-principal:" prefix keeps these hashes apart from user_key values of the same text.
    digest = hmac.new(key, f"iam-principal:{name}".encode(), hashlib.sha256).hexdigest()
    return MASK_PREFIX + digest[:MASK_HEX_DIGITS]


def mask_principal(principal: str, key: bytes) -> str:
    """Return ``principal`` with a session, user or federated user name replaced by its keyed hash.

    A value that is not an ARN is replaced as a whole, because it may be a name or an e-mail address,
    unless it is a service principal (``*.amazonaws.com``) or a Bedrock API key user.
    """
    match = _PERSONAL_NAME.match(principal)
    if match:
        name = match.group("name")
        if name.startswith(_API_KEY_USER):
            return principal
        return match.group("kept") + _keyed_hash(key, name)
    if _ARN.match(principal) or principal.endswith(".amazonaws.com") or principal.startswith(_API_KEY_USER):
        return principal
    return _keyed_hash(key, principal)
