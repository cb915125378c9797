"""IAM principal ARNs with their personal part replaced by a keyed hash.

Bedrock invocation logs (``identity.arn``) and CUR 2.0 (``line_item_iam_principal``) name the caller
of each request. The session name of an assumed role is often the person's e-mail address (IAM
Identity Center sessions use the user name), and IAM user and federated user names are often personal
names. So before a principal is stored, that last part becomes ``hmac-`` and 16 hex digits of
HMAC-SHA256 under the same key as ``user_key``. The account, the role and the kind of principal stay
readable, and both sources mask the same name the same way, so bill lines still match requests.

Both ingests mask with the DuckDB macro that ``register_principal_mask`` creates, row by row inside
their SQL. ``mask_principal`` is the same rule in Python, and the tests check that the two agree.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import duckdb

MASK_PREFIX = "hmac-"
MASK_HEX_DIGITS = 16

# The name after the last "/" is personal for these kinds. Role ARNs, the account root and service
# principals name no person and are kept as they are.
_PERSONAL_NAME = re.compile(
    r"^(?P<kept>arn:aws[a-z-]*:(?:sts::[0-9]*:assumed-role/[^/]+/|sts::[0-9]*:federated-user/|iam::[0-9]*:user/(?:.*/)?))"
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


# The same rule as mask_principal, in DuckDB SQL (RE2 patterns). The name and its folder are split
# with parse_filename and parse_dirpath, which took a third of the CPU of regexp_extract. The key's HMAC
# pads are read from the one-row table principal_key, so that the key never appears in SQL text or in an
# error message.
_PERSONAL_SQL = (
    "^arn:aws[a-z-]*:(sts::[0-9]*:assumed-role/[^/]+/|sts::[0-9]*:federated-user/|iam::[0-9]*:user/(.*/)?)[^/]+$"
)
_HMAC_SQL = (
    "left(sha256((SELECT outer_pad FROM principal_key) || unhex(sha256((SELECT inner_pad FROM principal_key) "
    "|| encode('iam-principal:' || {text})))), " + str(MASK_HEX_DIGITS) + ")"
)
_MASK_MACRO = f"""
CREATE OR REPLACE TEMP MACRO mask_principal(principal) AS (
    CASE
        WHEN principal IS NULL THEN NULL
        WHEN regexp_matches(principal, '{_PERSONAL_SQL}')
            AND NOT starts_with(parse_filename(principal, false, 'forward_slash'), '{_API_KEY_USER}')
            THEN parse_dirpath(principal, 'forward_slash') || '/{MASK_PREFIX}'
                || {_HMAC_SQL.format(text="parse_filename(principal, false, 'forward_slash')")}
        WHEN regexp_matches(principal, '^arn:aws[a-z-]*:') OR suffix(principal, '.amazonaws.com')
            OR starts_with(principal, '{_API_KEY_USER}')
            THEN principal
        ELSE '{MASK_PREFIX}' || {_HMAC_SQL.format(text="principal")}
    END
)
"""


def register_principal_mask(connection: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Create the ``mask_principal(principal)`` macro, keyed with ``key``, on a DuckDB connection."""
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()
    block = block.ljust(64, b"\0")
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE principal_key AS SELECT ?::BLOB AS inner_pad, ?::BLOB AS outer_pad",
        [bytes(byte ^ 0x36 for byte in block), bytes(byte ^ 0x5C for byte in block)],
    )
    connection.execute(_MASK_MACRO)
