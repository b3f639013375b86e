"""User import jobs over the wire: the CSV header, a job and its pre-signed URL, a 1,000-user import, the
refused uploads, the job's life (expiry, stop, start rules), the listing, and an imported user who resets
their password and signs in with SRP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest
from walk import Walker, walks

from aiocognito import RetryPolicy, Session, errors
from aiocognito._signin.steps import SignedIn
from aiocognito.testing import LocalUserPool

ROLE = "arn:aws:iam::123456789012:role/CognitoImportRole"
KMS = {"x-amz-server-side-encryption": "aws:kms"}
NEW_PASSWORD = "N3w-passw0rd!"


def csv_text(header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> bytes:
    """A CSV file as Cognito wants it: no quotes, commas in values escaped with a backslash."""
    lines = [",".join(header)]
    lines += [",".join(row.get(name, "").replace(",", "\\,") for name in header) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def user_row(name: str, **values: str) -> dict[str, str]:
    row = {
        "cognito:username": name,
        "email": f"{name}@example.com",
        "email_verified": "TRUE",
        "cognito:mfa_enabled": "FALSE",
        "given_name": name.title(),
    }
    row.update(values)
    return row


async def put(url: str, body: bytes, headers: Mapping[str, str] = KMS) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.put(url, data=body, headers=dict(headers)) as r:
        return r.status, await r.text()


async def new_pool(local: LocalUserPool, **extra: Any) -> str:
    return await local.create_user_pool(
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}],
        **extra,
    )


async def new_job(w: Walker, pool_id: str, name: str = "import", **extra: Any) -> dict[str, Any]:
    job = await w.call(
        "CreateUserImportJob", JobName=name, UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE, **extra
    )
    return job["UserImportJob"]  # type: ignore[no-any-return]


@walks(
    "GetCSVHeader",
    "CreateUserImportJob",
    "DescribeUserImportJob",
    "ListUserImportJobs",
    "StartUserImportJob",
)
async def test_import_a_thousand_users_then_one_resets_and_signs_in() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(local)
        # With PreventUserExistenceErrors a sign-in of a user who must reset is NotAuthorizedException
        # (developer guide, "Requiring imported users to reset their passwords").
        app = await local.create_app_client(pool_id, PreventUserExistenceErrors="ENABLED")
        await local.create_user(pool_id, "existing", "Passw0rd!", attributes={"email": "old@example.com"})

        header = await w.call("GetCSVHeader", UserPoolId=pool_id)
        assert header["UserPoolId"] == pool_id
        columns = header["CSVHeader"]
        assert columns[:3] == ["name", "given_name", "family_name"] and "sub" not in columns
        assert columns[-3:] == ["custom:tier", "cognito:mfa_enabled", "cognito:username"]

        job = await new_job(w, pool_id, "first import")
        assert job["JobId"].startswith("import-") and len(job["JobId"]) == 17
        assert job["Status"] == "Created" and job["CloudWatchLogsRoleArn"] == ROLE
        assert (job["ImportedUsers"], job["SkippedUsers"], job["FailedUsers"]) == (0, 0, 0)
        url = job["PreSignedUrl"]
        assert url.startswith(f"{local.endpoint_url}/_uploads/{job['JobId']}?")
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-Expires"] == ["900"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]

        rows = [
            user_row(f"user{i:04d}", address="1 Main St, Apt 2", **{"custom:tier": "gold"})
            for i in range(997)
        ]
        rows.insert(10, user_row("existing"))  # skipped: the user already exists
        rows.insert(500, user_row("bademail", email="not-an-email"))  # fails the schema
        rows.append(user_row("unverified", email_verified="false"))  # no auto-verified attribute is true
        assert len(rows) == 1000
        assert await put(url, csv_text(list(reversed(columns)), rows)) == (200, "")

        described = (await w.call("DescribeUserImportJob", UserPoolId=pool_id, JobId=job["JobId"]))[
            "UserImportJob"
        ]
        assert described["Status"] == "Created" and "StartDate" not in described

        started = (await w.call("StartUserImportJob", UserPoolId=pool_id, JobId=job["JobId"]))[
            "UserImportJob"
        ]
        assert started["Status"] == "Pending" and "StartDate" in started and started["ImportedUsers"] == 0

        done = (await w.call("DescribeUserImportJob", UserPoolId=pool_id, JobId=job["JobId"]))[
            "UserImportJob"
        ]
        assert done["Status"] == "Succeeded"
        assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (997, 1, 2)
        assert done["CompletionMessage"] == "Import Job Completed Successfully."
        assert done["CompletionDate"] >= done["StartDate"] >= done["CreationDate"]

        listed = await w.call("ListUserImportJobs", UserPoolId=pool_id, MaxResults=10)
        assert [j["JobId"] for j in listed["UserImportJobs"]] == [job["JobId"]]
        assert "PaginationToken" not in listed

        # What Cognito writes to CloudWatch Logs, the local pool keeps on the job (the header is line 1).
        failures = local._state.pools[pool_id].import_jobs[job["JobId"]].failures
        by_line = {f["line"]: (f["status"], f["reason"]) for f in failures}
        assert by_line[12] == ("SKIPPED", "The user already exists.")
        assert by_line[502] == ("FAILED", "Invalid email address format.")
        assert by_line[1001][0] == "FAILED" and "auto verified attributes" in by_line[1001][1]

        async with local.client(retries=RetryPolicy(max_attempts=1)) as client:
            user = await client.admin_get_user(UserPoolId=pool_id, Username="user0001")
            assert user["UserStatus"] == "RESET_REQUIRED"
            attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
            assert attributes["address"] == "1 Main St, Apt 2" and attributes["custom:tier"] == "gold"
            assert attributes["email_verified"] == "true" and attributes["given_name"] == "User0001"
            with pytest.raises(errors.UserNotFoundException):
                await client.admin_get_user(UserPoolId=pool_id, Username="bademail")

            session = Session(client, user_pool_id=pool_id, client_id=app.client_id)
            with pytest.raises(errors.NotAuthorizedException):
                await session.sign_in("user0001", "any-Passw0rd!")
            await client.forgot_password(ClientId=app.client_id, Username="user0001")
            code = local.last_code("user0001")
            await client.confirm_forgot_password(
                ClientId=app.client_id, Username="user0001", ConfirmationCode=code, Password=NEW_PASSWORD
            )
            step = await Session(client, user_pool_id=pool_id, client_id=app.client_id).sign_in(
                "user0001", NEW_PASSWORD
            )
            assert isinstance(step, SignedIn)
            user = await client.admin_get_user(UserPoolId=pool_id, Username="user0001")
            assert user["UserStatus"] == "CONFIRMED"
        w.check_walked(test_import_a_thousand_users_then_one_resets_and_signs_in)


@walks("CreateUserImportJob", "StartUserImportJob", "DescribeUserImportJob")
async def test_the_upload_url_refuses_what_s3_would() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(local)
        job = await new_job(w, pool_id)
        url, body = job["PreSignedUrl"], csv_text(["cognito:username"], [])
        parts = urlsplit(url)
        query = parse_qs(parts.query)

        forged = dict(query, **{"X-Amz-Signature": ["0" * 64]})
        status, text = await put(urlunsplit(parts._replace(query=_encode(forged))), body)
        assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in text
        longer = dict(query, **{"X-Amz-Expires": ["604800"]})  # a changed query breaks the signature
        status, text = await put(urlunsplit(parts._replace(query=_encode(longer))), body)
        assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in text
        status, text = await put(urlunsplit(parts._replace(query="")), body)
        assert status == 403 and "<Code>AccessDenied</Code>" in text
        status, text = await put(url.replace(job["JobId"], "import-0000000000"), body)
        assert status == 404 and "<Code>NoSuchKey</Code>" in text

        await w.refused(
            "PreconditionNotMetException", "StartUserImportJob", UserPoolId=pool_id, JobId=job["JobId"]
        )
        local.advance_clock(901)  # the URL is valid for 15 minutes
        status, text = await put(url, body)
        assert status == 403 and "<Code>AccessDenied</Code>" in text and "Request has expired" in text

        # A job not started within 24 hours expires; its file is gone and it cannot start.
        second = await new_job(w, pool_id, "second")
        header = (await w.call("GetCSVHeader", UserPoolId=pool_id))["CSVHeader"]
        assert await put(second["PreSignedUrl"], csv_text(header, [user_row("late")])) == (200, "")
        local.advance_clock(24 * 3600)
        expired = (await w.call("DescribeUserImportJob", UserPoolId=pool_id, JobId=second["JobId"]))[
            "UserImportJob"
        ]
        assert (
            expired["Status"] == "Expired"
            and expired["CompletionMessage"] == "The user import job has expired."
        )
        await w.refused(
            "PreconditionNotMetException", "StartUserImportJob", UserPoolId=pool_id, JobId=second["JobId"]
        )

        # After the start, the URL takes no more files, and the job cannot start again.
        third = await new_job(w, pool_id, "third")
        assert await put(third["PreSignedUrl"], csv_text(header, [user_row("third")])) == (200, "")
        await w.call("StartUserImportJob", UserPoolId=pool_id, JobId=third["JobId"])
        status, text = await put(third["PreSignedUrl"], csv_text(header, [user_row("again")]))
        assert status == 403 and "<Code>AccessDenied</Code>" in text
        await w.refused(
            "PreconditionNotMetException", "StartUserImportJob", UserPoolId=pool_id, JobId=third["JobId"]
        )
        users = local._state.pools[pool_id].users
        assert "third" in users and "again" not in users and "late" not in users
        w.check_walked(test_the_upload_url_refuses_what_s3_would)


def _encode(query: Mapping[str, list[str]]) -> str:
    return urlencode({k: v[0] for k, v in query.items()})


@walks("CreateUserImportJob", "StartUserImportJob", "DescribeUserImportJob", "GetCSVHeader")
async def test_a_file_that_cannot_be_read_or_imports_nobody_fails_the_job() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(local)
        header = (await w.call("GetCSVHeader", UserPoolId=pool_id))["CSVHeader"]

        async def run(body: bytes) -> dict[str, Any]:
            job = await new_job(w, pool_id)
            assert await put(job["PreSignedUrl"], body) == (200, "")
            await w.call("StartUserImportJob", UserPoolId=pool_id, JobId=job["JobId"])
            answer = await w.call("DescribeUserImportJob", UserPoolId=pool_id, JobId=job["JobId"])
            return answer["UserImportJob"]  # type: ignore[no-any-return]

        missing = await run(csv_text(["cognito:username", "email", "email_verified"], [user_row("ann")]))
        assert missing["Status"] == "Failed" and "missing columns" in missing["CompletionMessage"]
        unknown = await run(csv_text([*header, "shoe_size"], [user_row("ann")]))
        assert unknown["Status"] == "Failed" and "shoe_size" in unknown["CompletionMessage"]
        bom = await run(b"\xef\xbb\xbf" + csv_text(header, [user_row("ann")]))
        assert bom["Status"] == "Failed" and "byte order mark" in bom["CompletionMessage"]

        nobody = await run(csv_text(header, [user_row("has space"), user_row("bob", birthdate="1985-02-01")]))
        assert nobody["Status"] == "Failed" and nobody["FailedUsers"] == 2 and nobody["ImportedUsers"] == 0
        assert nobody["CompletionMessage"] == "Too many users have failed or been skipped during the import."

        mfa_off = await run(
            csv_text(header, [user_row("cat", **{"cognito:mfa_enabled": "TRUE"}), user_row("dan")])
        )
        assert (mfa_off["Status"], mfa_off["ImportedUsers"], mfa_off["FailedUsers"]) == ("Succeeded", 1, 1)
        assert "ann" not in local._state.pools[pool_id].users
        w.check_walked(test_a_file_that_cannot_be_read_or_imports_nobody_fails_the_job)


@walks("CreateUserImportJob", "StartUserImportJob", "DescribeUserImportJob", "GetCSVHeader")
async def test_password_hashes_and_passwordless_pools_import_confirmed_users() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(
            local, Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}
        )
        job = await new_job(w, pool_id, PasswordHashingAlgorithm="BCRYPT")
        assert job["PasswordHashingAlgorithm"] == "BCRYPT"
        bcrypt = "$2b$10$CtA.Rcu/szzn9U00wpUjOuN3vrgJRZycv4aOzcP3GzqzO8UDPEFq6"
        columns = ["cognito:username", "email", "email_verified", "password_hash"]
        rows = [
            user_row("hashed", password_hash=bcrypt),
            user_row("costly", password_hash=bcrypt.replace("$10$", "$13$")),  # cost above 12
            user_row("scrypted", password_hash="65536$8$1$30$4f"),  # not a bcrypt hash
            user_row("plain"),  # no hash: the pool's EMAIL_OTP lets them sign in, so CONFIRMED
        ]
        assert await put(job["PreSignedUrl"], csv_text(columns, rows)) == (200, "")
        await w.call("StartUserImportJob", UserPoolId=pool_id, JobId=job["JobId"])
        done = (await w.call("DescribeUserImportJob", UserPoolId=pool_id, JobId=job["JobId"]))[
            "UserImportJob"
        ]
        assert (done["Status"], done["ImportedUsers"], done["FailedUsers"]) == ("Succeeded", 2, 2)
        pool = local._state.pools[pool_id]
        assert pool.users["hashed"].status == "CONFIRMED" and pool.users["plain"].status == "CONFIRMED"
        assert pool.features["import_password_hashes"][pool.users["hashed"].sub]["hash"] == bcrypt

        header = (await w.call("GetCSVHeader", UserPoolId=pool_id))["CSVHeader"]
        no_column = await new_job(w, pool_id, "no column", PasswordHashingAlgorithm="SCRYPT")
        assert await put(no_column["PreSignedUrl"], csv_text(header, [user_row("eve")])) == (200, "")
        await w.call("StartUserImportJob", UserPoolId=pool_id, JobId=no_column["JobId"])
        failed = await w.call("DescribeUserImportJob", UserPoolId=pool_id, JobId=no_column["JobId"])
        assert failed["UserImportJob"]["Status"] == "Failed"
        assert "password_hash" in failed["UserImportJob"]["CompletionMessage"]
        w.check_walked(test_password_hashes_and_passwordless_pools_import_confirmed_users)


@walks("CreateUserImportJob", "StopUserImportJob", "DescribeUserImportJob", "ListUserImportJobs")
async def test_stop_and_list_jobs_newest_first() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(local)
        ids = []
        for name in ("one", "two", "three"):
            ids.append((await new_job(w, pool_id, name))["JobId"])
            local.advance_clock(1)

        await w.refused("PreconditionNotMetException", "StopUserImportJob", UserPoolId=pool_id, JobId=ids[0])
        # Local imports end inside StartUserImportJob, so a running job is never seen over the wire: make
        # one as Cognito would show it while it imports, then stop it.
        running = local._state.pools[pool_id].import_jobs[ids[0]]
        running.status, running.started = "InProgress", local.now()
        stopped = (await w.call("StopUserImportJob", UserPoolId=pool_id, JobId=ids[0]))["UserImportJob"]
        assert stopped["Status"] == "Stopped" and "CompletionDate" in stopped
        assert stopped["CompletionMessage"] == "The Import Job was stopped by the developer."
        again = (await w.call("DescribeUserImportJob", UserPoolId=pool_id, JobId=ids[0]))["UserImportJob"]
        assert again["Status"] == "Stopped"
        await w.refused("PreconditionNotMetException", "StopUserImportJob", UserPoolId=pool_id, JobId=ids[0])

        first = await w.call("ListUserImportJobs", UserPoolId=pool_id, MaxResults=2)
        assert [j["JobId"] for j in first["UserImportJobs"]] == [ids[2], ids[1]]
        rest = await w.call(
            "ListUserImportJobs", UserPoolId=pool_id, MaxResults=2, PaginationToken=first["PaginationToken"]
        )
        assert [j["JobId"] for j in rest["UserImportJobs"]] == [ids[0]] and "PaginationToken" not in rest

        await w.refused(
            "ResourceNotFoundException", "DescribeUserImportJob", UserPoolId=pool_id, JobId="import-nope"
        )
        await w.refused(
            "ResourceNotFoundException", "ListUserImportJobs", UserPoolId="us-east-1_nope", MaxResults=5
        )
        await w.refused("InvalidParameterException", "ListUserImportJobs", UserPoolId=pool_id, MaxResults=61)
        w.check_walked(test_stop_and_list_jobs_newest_first)


@walks("CreateUserImportJob")
async def test_a_pool_without_auto_verified_attributes_cannot_start_an_import() -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await local.create_user_pool()
        job = await new_job(w, pool_id)
        columns = (await w.call("GetCSVHeader", UserPoolId=pool_id))["CSVHeader"]
        assert await put(job["PreSignedUrl"], csv_text(columns, [user_row("ann")])) == (200, "")
        await w.refused(
            "PreconditionNotMetException", "StartUserImportJob", UserPoolId=pool_id, JobId=job["JobId"]
        )
        await w.refused(
            "ResourceNotFoundException",
            "CreateUserImportJob",
            JobName="x",
            UserPoolId="us-east-1_nope",
            CloudWatchLogsRoleArn=ROLE,
        )
        w.check_walked(test_a_pool_without_auto_verified_attributes_cannot_start_an_import)


def _hashes(password: str) -> dict[str, str]:
    """The password hashed the four ways an import job takes (within Cognito's parameter bounds)."""
    import base64
    import hashlib

    import bcrypt
    from argon2 import PasswordHasher

    def ab64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=").replace("+", ".")

    salt = b"0123456789abcdef"
    scrypt = hashlib.scrypt(password.encode(), salt=salt, n=16384, r=8, p=1, dklen=32)
    pbkdf2 = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000, 32)
    return {
        "BCRYPT": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode(),
        "ARGON2ID": PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(password),
        "SCRYPT": f"16384$8$1${salt.hex()}${scrypt.hex()}",
        "PBKDF2_SHA256": f"$pbkdf2-sha256$1000${ab64(salt)}${ab64(pbkdf2)}",
    }


@pytest.mark.parametrize("algorithm", ["BCRYPT", "ARGON2ID", "SCRYPT", "PBKDF2_SHA256"])
async def test_an_imported_password_hash_signs_the_user_in_once_then_the_password_is_theirs(
    algorithm: str,
) -> None:
    async with LocalUserPool() as local, Walker(local.endpoint_url) as w:
        pool_id = await new_pool(local)
        app = await local.create_app_client(
            pool_id, flows=("ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH")
        )
        job = await new_job(w, pool_id, PasswordHashingAlgorithm=algorithm)
        columns = ["cognito:username", "email", "email_verified", "password_hash"]
        row = user_row("legacy", password_hash=_hashes(NEW_PASSWORD)[algorithm])
        assert await put(job["PreSignedUrl"], csv_text(columns, [row])) == (200, "")
        await w.call("StartUserImportJob", UserPoolId=pool_id, JobId=job["JobId"])
        done = await w.call("DescribeUserImportJob", UserPoolId=pool_id, JobId=job["JobId"])
        assert done["UserImportJob"]["ImportedUsers"] == 1, done

        def password_auth(password: str) -> Any:
            return w.call(
                "InitiateAuth",
                ClientId=app.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "legacy", "PASSWORD": password},
            )

        async with local.client(retries=RetryPolicy(max_attempts=1)) as cognito:
            # SRP cannot start from a hash: before the first password sign-in it fails like a wrong password
            with pytest.raises(errors.NotAuthorizedException):
                await Session(cognito, user_pool_id=pool_id, client_id=app.client_id).sign_in(
                    "legacy", NEW_PASSWORD
                )
            await w.refused(
                "NotAuthorizedException",
                "InitiateAuth",
                ClientId=app.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "legacy", "PASSWORD": "Wr0ng-pass!"},
            )
            assert "AuthenticationResult" in await password_auth(NEW_PASSWORD)
            assert local._state.pools[pool_id].features["import_password_hashes"] == {}
            # from now on the password is the user's own: SRP works
            step = await Session(cognito, user_pool_id=pool_id, client_id=app.client_id).sign_in(
                "legacy", NEW_PASSWORD
            )
            assert isinstance(step, SignedIn)
