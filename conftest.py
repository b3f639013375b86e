"""README.md is part of the test suite: sybil runs its code blocks (pytest collects README.md, see pyproject).

How a block runs:

* ``python`` blocks run in order in one namespace, with top-level ``await`` allowed, against a local user pool
  that the harness serves from its own thread on 127.0.0.1 (region ``eu-west-1``). The process environment
  points every client at it (``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER``, ``AWS_REGION``, dummy keys), so the
  README's code runs unchanged but for its example ids (:data:`PLACEHOLDERS`), which become the ids the pool
  made. ``input()`` and ``getpass()`` answer as a user would: a password prompt gets the seeded password, a
  prompt about an authenticator app the TOTP of the secret the block was shown, a code prompt the newest code
  the pool sent. A block that defines a pytest test is written to a file and run by pytest in a scratch folder
  with no configuration of ours (so it must work in a user's project as written).
* A real ``redis-server`` (``tests/redis_server.py``) serves the blocks that share state between workers:
  ``REDIS_URL`` and ``AIOCOGNITO_STORE_KEY`` are set for them.
* ``json`` blocks are seed files: written to ``seed.json`` in the scratch folder.
* ``sh`` blocks run as one bash script (``set -euo pipefail``) in the scratch folder with the same environment
  and the seeded password on each command's standard input; the install line runs in the checkout. The README's test
  command is not run again from inside the tests: it must be exactly what ``.ci/run`` runs. A line starting
  ``aiocognito local`` is started in the background (it must print its banner) and stopped when the README is
  done, so later blocks can use it.
* A block the harness must not run says why in an HTML comment: ``<!-- skip: next because ... -->``.
  ``tests/test_readme_blocks.py`` fails on a block in any other language and on a skip without a reason.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import getpass
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sybil import Example, Sybil
from sybil.evaluators.python import pad
from sybil.parsers.markdown import CodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parent
REGION = "eu-west-1"
PASSWORD = "Correct-horse-9"
#: The README's example ids -> the names of the ids the harness creates for them.
PLACEHOLDERS = {
    "eu-west-1_AbC123": "pool_id",
    "a1b2c3d4e5example": "client_id",
    "s1e2c3r4e5example": "secret_client_id",
    "example-client-secret": "client_secret",
    "w1e2b3c4l5example": "web_client_id",
    "m1a2c3h4i5example": "m2m_client_id",
    "example-m2m-secret": "m2m_client_secret",
    "https://my-login.auth.eu-west-1.amazoncognito.com": "domain_url",
}
_T = TypeVar("_T")
#: Each ``aiocognito`` command of a shell block gets the seeded password on its own standard input (as a user
#: types it at each prompt; one pipe shared by the script would be read ahead by the first command).
_PRELUDE = f"set -euo pipefail\naiocognito() {{ command aiocognito \"$@\" <<< '{PASSWORD}'; }}\n"


class LocalPoolThread:
    """A seeded :class:`~aiocognito.testing.LocalUserPool` served by a loop of its own thread, so that README
    code (which may call ``asyncio.run``) and CLI subprocesses can both reach it."""

    def __init__(self) -> None:
        from aiocognito.testing import LocalUserPool

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="readme-pool", daemon=True)
        self.pool = LocalUserPool(region=REGION)
        self.ids: dict[str, str] = {}

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def start(self) -> None:
        self.thread.start()
        self.run(self.pool.start())
        self.run(self._seed())

    async def _seed(self) -> None:
        pool = self.pool
        pool_id = await pool.create_user_pool(
            "readme", alias_attributes=["email"], AutoVerifiedAttributes=["email"]
        )
        public = await pool.create_app_client(
            pool_id, flows=("ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
        )
        secret = await pool.create_app_client(pool_id, secret=True)
        await pool.create_user(pool_id, "alice", PASSWORD, attributes={"email": "alice@example.com"})
        # managed login and machine-to-machine: a domain, a resource server, a code-flow and an M2M client
        await pool.call("CreateUserPoolDomain", UserPoolId=pool_id, Domain="my-login")
        await pool.call(
            "CreateResourceServer",
            UserPoolId=pool_id,
            Identifier="orders",
            Name="Orders API",
            Scopes=[{"ScopeName": "read", "ScopeDescription": "read orders"}],
        )
        oauth = {"AllowedOAuthFlowsUserPoolClient": True, "SupportedIdentityProviders": ["COGNITO"]}
        web = await pool.create_app_client(
            pool_id,
            "web",
            flows=("ALLOW_REFRESH_TOKEN_AUTH",),
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile"],
            CallbackURLs=["http://localhost:8000/auth/callback"],
            LogoutURLs=["http://localhost:8000/"],
            **oauth,
        )
        m2m = await pool.create_app_client(
            pool_id,
            "m2m",
            secret=True,
            flows=("ALLOW_REFRESH_TOKEN_AUTH",),
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=["orders/read"],
            **oauth,
        )
        self.ids = {
            "pool_id": pool_id,
            "client_id": public.client_id,
            "secret_client_id": secret.client_id,
            "client_secret": secret.client_secret or "",
            "web_client_id": web.client_id,
            "m2m_client_id": m2m.client_id,
            "m2m_client_secret": m2m.client_secret or "",
            "domain_url": pool.domain_url("my-login"),
        }

    def stop(self) -> None:
        self.run(self.pool.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class Readme:
    """What the blocks of one run of README.md share."""

    def __init__(self) -> None:
        self.pool = LocalPoolThread()
        self.scratch = tempfile.TemporaryDirectory(prefix="readme-")
        self.loop = asyncio.new_event_loop()  # for blocks with top-level await
        self.saved_env = dict(os.environ)
        self.saved_input: tuple[Callable[..., str], Callable[..., str]] = (builtins.input, getpass.getpass)
        self.namespace: dict[str, Any] = {}
        self.servers: list[subprocess.Popen[str]] = []

    def substitute(self, source: str) -> str:
        for placeholder, name in PLACEHOLDERS.items():
            source = source.replace(placeholder, self.pool.ids[name])
        return source

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        return env

    def answer(self, prompt: object = "") -> str:
        """What a user types at ``prompt``: the seeded password, the newest code, or a TOTP code."""
        text = str(prompt).lower()
        if "password" in text:
            return PASSWORD
        if "app" in text or "totp" in text:
            import pyotp

            secret = next(
                v.secret_code
                for v in reversed(list(self.namespace.values()))
                if isinstance(getattr(v, "secret_code", None), str)
            )
            return str(pyotp.TOTP(secret).now())
        if "code" in text:
            return self.pool.pool.last_code()
        raise AssertionError(f"the README asks for input the harness cannot give: {prompt!r}")

    def start(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        namespace["__readme__"] = self
        self.pool.start()
        os.environ.update(
            AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=self.pool.pool.endpoint_url,
            AWS_REGION=REGION,
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            AWS_EC2_METADATA_DISABLED="true",
        )
        builtins.input = self.answer
        getpass.getpass = self.answer
        self.start_redis()

    def start_redis(self) -> None:
        """A real redis-server for the "Several workers" blocks (``REDIS_URL``, ``AIOCOGNITO_STORE_KEY``)."""
        import base64
        import shutil

        sys.path.insert(0, str(ROOT / "tests"))
        from redis_server import RedisServer

        executable = shutil.which("redis-server")
        if executable is None:
            raise AssertionError("the README needs redis-server: run scripts/install-test-services")
        self.redis = RedisServer(executable, Path(self.scratch.name))
        self.redis.start()
        os.environ["REDIS_URL"] = self.redis.url
        os.environ["AIOCOGNITO_STORE_KEY"] = base64.b64encode(os.urandom(32)).decode()

    def stop(self) -> None:
        for server in self.servers:
            server.terminate()
            server.wait(timeout=10)
        if getattr(self, "redis", None) is not None:
            self.redis.stop()
        builtins.input, getpass.getpass = self.saved_input
        os.environ.clear()
        os.environ.update(self.saved_env)
        self.loop.close()
        if self.pool.thread.is_alive():
            self.pool.stop()
        self.scratch.cleanup()

    # -- evaluators ------------------------------------------------------------------------------------------

    def run_python(self, example: Example) -> None:
        if re.search(r"^(async )?def test_", example.parsed, re.M):
            self.run_pytest_example(example.parsed)
            return
        source = pad(self.substitute(example.parsed), example.line + example.parsed.line_offset)
        code = compile(source, example.path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        result = eval(code, example.namespace)  # noqa: S307 - the README's own code
        if inspect.iscoroutine(result):
            self.loop.run_until_complete(result)

    def run_pytest_example(self, source: str) -> None:
        folder = Path(self.scratch.name, "pytest-example")
        folder.mkdir(exist_ok=True)
        (folder / "test_readme_example.py").write_text(source)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_readme_example.py"],
            cwd=folder, env=self.env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0 and " passed" in done.stdout, done.stdout + done.stderr

    def write_seed(self, example: Example) -> None:
        json.loads(example.parsed)  # a seed file the README shows must at least be JSON
        Path(self.scratch.name, "seed.json").write_text(example.parsed)

    def run_sh(self, example: Example) -> None:
        script: list[str] = []
        for line in commands(self.substitute(example.parsed)):
            if "pip install -q -e '.[test]'" in line:
                ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
                assert line == ci, f"the README's test command differs from .ci/run's: {line!r} vs {ci!r}"
            elif line.startswith("python3 -m venv"):
                self.bash(line, cwd=ROOT)
            elif line.startswith("aiocognito local"):
                self.bash("\n".join(script))
                script = []
                self.start_local_server(line)
            else:
                script.append(line)
        self.bash("\n".join(script))

    def bash(self, script: str, *, cwd: Path | None = None) -> None:
        if not script.strip():
            return
        done = subprocess.run(
            ["bash", "-c", _PRELUDE + script], cwd=cwd or self.scratch.name, env=self.env,
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, f"{script}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"

    def start_local_server(self, line: str) -> None:
        server = subprocess.Popen(
            ["bash", "-c", f"exec {line}"], cwd=self.scratch.name, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.servers.append(server)
        assert server.stdout is not None
        banner = []
        for text in server.stdout:  # the banner ends with a line starting "Ready"
            banner.append(text)
            if text.startswith("Ready"):
                break
        assert any("http://127.0.0.1:" in text for text in banner), f"{line} printed no endpoint: {banner}"


def commands(text: str) -> Iterator[str]:
    """The command lines of a shell block: comments dropped, ``\\`` continuations joined."""
    pending = ""
    for raw in text.splitlines():
        line = re.sub(r"\s+#.*$", "", raw).strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""


def _setup(namespace: dict[str, Any]) -> None:
    Readme().start(namespace)  # the local pool (and moto) load only when README.md is collected and run


def _teardown(namespace: dict[str, Any]) -> None:
    if "__readme__" in namespace:
        namespace["__readme__"].stop()


pytest_collect_file = Sybil(
    parsers=[
        CodeBlockParser(
            "python", evaluator=lambda example: example.namespace["__readme__"].run_python(example)
        ),
        CodeBlockParser("sh", evaluator=lambda example: example.namespace["__readme__"].run_sh(example)),
        CodeBlockParser(
            "json", evaluator=lambda example: example.namespace["__readme__"].write_seed(example)
        ),
        SkipParser(),
    ],
    patterns=["README.md"],
    setup=_setup,
    teardown=_teardown,
).pytest()
