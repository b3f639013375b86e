"""Identifiers shaped as Cognito's, from a source of random bytes (pure: the randomness is a parameter).

* user pool ids: ``<region>_<9 letters and digits>`` (``us-east-1_aB3dE5fG7``);
* app client ids: 26 lowercase letters and digits; client secrets: 51 of them (Cognito's lengths);
* a client secret's id: ``<client id>--<epoch milliseconds of its creation>``;
* account ids: 12 digits; subs, device keys (``<region>_<uuid>``), import jobs (``import-<10>``);
* ARNs: ``arn:<partition>:cognito-idp:<region>:<account>:userpool/<id>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

__all__ = [
    "RandomBytes",
    "choose",
    "user_pool_id",
    "client_id",
    "client_secret",
    "client_secret_id",
    "account_id",
    "sub",
    "device_key",
    "import_job_id",
    "user_pool_arn",
    "partition",
]

RandomBytes = Callable[[int], bytes]

_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "0123456789abcdefghijklmnopqrstuvwxyz"


def choose(random_bytes: RandomBytes, alphabet: str, length: int) -> str:
    """``length`` characters of ``alphabet``, uniformly (rejection sampling over random bytes)."""
    limit = 256 - 256 % len(alphabet)
    out: list[str] = []
    while len(out) < length:
        for byte in random_bytes(length * 2):
            if byte < limit and len(out) < length:
                out.append(alphabet[byte % len(alphabet)])
    return "".join(out)


def user_pool_id(random_bytes: RandomBytes, region: str) -> str:
    return f"{region}_{choose(random_bytes, _ALNUM, 9)}"


def client_id(random_bytes: RandomBytes) -> str:
    return choose(random_bytes, _LOWER, 26)


def client_secret(random_bytes: RandomBytes) -> str:
    return choose(random_bytes, _LOWER, 51)


def client_secret_id(client: str, created: float) -> str:
    return f"{client}--{int(created * 1000)}"


def account_id(random_bytes: RandomBytes) -> str:
    return choose(random_bytes, "123456789", 1) + choose(random_bytes, "0123456789", 11)


def sub(random_bytes: RandomBytes) -> str:
    return str(uuid.UUID(bytes=random_bytes(16), version=4))


def device_key(random_bytes: RandomBytes, region: str) -> str:
    return f"{region}_{uuid.UUID(bytes=random_bytes(16), version=4)}"


def import_job_id(random_bytes: RandomBytes) -> str:
    return "import-" + choose(random_bytes, _ALNUM, 10)


def partition(region: str) -> str:
    """``aws``, ``aws-cn`` or ``aws-us-gov`` for a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def user_pool_arn(region: str, account: str, pool_id: str) -> str:
    return f"arn:{partition(region)}:cognito-idp:{region}:{account}:userpool/{pool_id}"
