"""IAM principal ARNs with their personal part replaced by a keyed hash.

Bedrock invocation logs (``identity.arn``) and CUR 2.0 (``line_item_iam_principal``) name the caller
of each request. The session name of an assumed role is often the person's e-mail address (IAM
Identity Center sessions use the user name), and IAM user and federated user names are often personal
names. So before a principal is stored, that last part becomes ``hmac-`` and 16 hex digits of
HMAC-SHA256 under the same key as ``user_key``. The account, the role and the kind of principal stay
readable, and both sources mask the same name the same way, so bill lines still match requests.

The rule is one DuckDB macro, ``mask_principal(principal)``, which ``register_principal_mask`` creates.
The billing-export ingest calls it row by row inside its SQL, and the log ingest calls it once for each
distinct principal through ``mask_principals``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import duckdb

MASK_PREFIX = "hmac-"
MASK_HEX_DIGITS = 16

# IAM users that Bedrock creates for API keys are named BedrockAPIKey-<id>: a key id, not a person.
_API_KEY_USER = "^BedrockAPIKey-[A-Za-z0-9]+$"
# Role ARNs, the account root, API key users and service principals name no person and are kept. Any
# other value, an ARN of an unknown form included, is hashed whole, so that an unexpected form never
# stores a name in the clear.
_KEPT = (
    r"^(?:arn:aws[a-z-]*:iam::[0-9]*:(?:role/(?:[^/]+/)*[^/]+|root)|BedrockAPIKey-[A-Za-z0-9]+"
    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.amazonaws\.com)$"
)


# The name after the last "/" is personal for these kinds (RE2 patterns). The name and its folder are
# split with parse_filename and parse_dirpath, which took a third of the CPU of regexp_extract. The
# key's HMAC pads are read from the one-row table principal_key, so that the key never appears in SQL
# text or in an error message. The "iam-principal:" prefix keeps these hashes apart from user_key values
# of the same text.
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
        WHEN regexp_matches(principal, '{_PERSONAL_SQL}') THEN
            CASE
                WHEN regexp_matches(parse_filename(principal, false, 'forward_slash'), '{_API_KEY_USER}')
                    THEN principal
                ELSE parse_dirpath(principal, 'forward_slash') || '/{MASK_PREFIX}'
                    || {_HMAC_SQL.format(text="parse_filename(principal, false, 'forward_slash')")}
            END
        WHEN regexp_matches(principal, '{_KEPT}') THEN principal
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


def mask_principals(
    principals: Sequence[str], key: bytes, connection: duckdb.DuckDBPyConnection | None = None
) -> list[str]:
    """Return each principal masked with ``key``, in order, by the ``mask_principal`` macro.

    The macro is created on ``connection``, or on a private in-memory database when none is given.
    """
    target = connection if connection is not None else duckdb.connect()
    try:
        register_principal_mask(target, key)
        rows = target.execute("SELECT mask_principal(unnest(?::VARCHAR[]))", [list(principals)]).fetchall()
    finally:
        if connection is None:
            target.close()
    return [str(row[0]) for row in rows]


def mask_principal(principal: str, key: bytes) -> str:
    """Return one principal masked with ``key`` (see ``mask_principals``)."""
    return mask_principals([principal], key)[0]
