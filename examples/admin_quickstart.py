"""Admin calls and an async listing.

    python examples/admin_quickstart.py --user-pool-id eu-west-1_AbC [--region eu-west-1] [--endpoint-url URL]

Needs AWS credentials (any source of the standard chain) for the signed admin calls.
"""

from __future__ import annotations

import argparse
import asyncio

import aiocognito


async def main(user_pool_id: str, region: str | None, endpoint_url: str | None) -> None:
    async with aiocognito.CognitoClient(region=region, endpoint_url=endpoint_url) as cognito:
        pool = await cognito.describe_user_pool(UserPoolId=user_pool_id)
        print(f"pool {pool['UserPool']['Name']} created {pool['UserPool']['CreationDate']:%Y-%m-%d}")
        count = 0
        async for user in cognito.list_all_users(UserPoolId=user_pool_id, Limit=60):
            count += 1
            print(f"{user['Username']:40} {user['UserStatus']:22} {user['UserCreateDate']:%Y-%m-%d}")
        print(f"{count} users")
        async for group in cognito.list_all_groups(UserPoolId=user_pool_id):
            members = [
                u["Username"]
                async for u in cognito.list_all_users_in_group(
                    UserPoolId=user_pool_id, GroupName=group["GroupName"]
                )
            ]
            print(f"group {group['GroupName']}: {len(members)} members")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--user-pool-id", required=True)
    ap.add_argument("--region")
    ap.add_argument("--endpoint-url")
    args = ap.parse_args()
    asyncio.run(main(args.user_pool_id, args.region, args.endpoint_url))
