"""Generate aiocognito's operation layer from botocore's cognito-idp service model.

Writes three modules under ``src/aiocognito/`` (two of them in ``_wire/``):

* ``_wire/operations.py``: ``OperationsMixin`` with one typed async method per operation and one ``list_all_*``
  method per paginated listing, plus the ``OPERATIONS`` and ``PAGINATED`` tables the client runs on.
  Required parameters are keyword-only with no default in the source, so mypy and pyright report a missing
  one; at run time ``model.defer_required`` gives them the default ``model.MISSING``, so a call that leaves
  one out reaches the parameter check and raises ``ParamValidationError`` naming it (not ``TypeError``).
* ``_wire/error_codes.py``: one exception class per modeled error code (and the common AWS JSON protocol codes).
* ``type_defs.py``: TypedDicts for every request and response structure (imported only for type checking).

Usage::

    python scripts/generate_operations.py                        # the model copy in src/aiocognito/testing/model/
    python scripts/generate_operations.py --model path/to/service-2.json[.gz] --paginators path/to/paginators-1.json
    python scripts/generate_operations.py --installed             # the installed botocore's model

The committed ``src/aiocognito/testing/model/`` (also the local pool's model) holds the newest model known (botocore 1.44.8: 153 operations); refresh it
with ``--fetch-wheel path/to/botocore-X-py3-none-any.whl``.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import keyword
import re
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "src" / "aiocognito"
MODEL_DIR = ROOT / "src" / "aiocognito" / "testing" / "model"

# Error codes of the AWS JSON protocol that Cognito may answer with although the model does not list them.
COMMON_ERRORS = {
    "ThrottlingException": "Request rate throttling reported by the AWS front end.",
    "UnrecognizedClientException": "The security token included in the request is invalid.",
    "InvalidSignatureException": "The request signature does not match (check the secret key and clock).",
    "IncompleteSignature": "The request signature is incomplete.",
    "MissingAuthenticationTokenException": "The request carries no signature (a signed operation was sent unsigned).",
    "ExpiredTokenException": "The AWS security token included in the request has expired.",
    "SerializationException": "The request body could not be parsed by the service.",
    "UnknownOperationException": "The service does not know this operation (an endpoint that lacks it).",
    "ValidationException": "A parameter failed the service's validation.",
    "ServiceUnavailable": "The service is temporarily unavailable.",
    "RequestExpired": "The request's timestamp is too far from the server's clock.",
}

# The paginated listings: every operation whose request and response share a token member and whose
# response carries a list. botocore's paginators-1.json covers 11 of these; the rest are derived the same way.
TOKEN_NAMES = ("NextToken", "PaginationToken")


def load_model(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    if args.installed:
        import botocore.loaders

        loader = botocore.loaders.Loader()
        return (
            loader.load_service_model("cognito-idp", "service-2"),
            loader.load_service_model("cognito-idp", "paginators-1"),
        )
    model_path = Path(args.model) if args.model else MODEL_DIR / "service-2.json.gz"
    pag_path = Path(args.paginators) if args.paginators else MODEL_DIR / "paginators-1.json"
    opener = gzip.open if model_path.suffix == ".gz" else open
    with opener(model_path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        service = json.load(fh)
    with open(pag_path, encoding="utf-8") as fh:
        paginators = json.load(fh)
    return service, paginators


def fetch_wheel(wheel: str) -> None:
    """Copy the cognito-idp model out of a botocore wheel into src/aiocognito/testing/model/."""
    prefix = "botocore/data/cognito-idp/2016-04-18/"
    with zipfile.ZipFile(wheel) as zf:
        for name in ("service-2.json.gz", "paginators-1.json"):
            (MODEL_DIR / name).write_bytes(zf.read(prefix + name))


def snake(name: str) -> str:
    """boto3's method name for an operation (AdminGetUser -> admin_get_user): botocore's own rule."""
    from botocore import xform_name

    return str(xform_name(name))


def doc_text(raw: str | None, limit: int = 700) -> str:
    """The model's HTML documentation as plain text, first paragraphs up to ``limit`` characters."""
    if not raw:
        return ""
    text = re.sub(r"<li>", "- ", raw)
    text = re.sub(r"</p>|<br\s*/?>|</li>|</note>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text)
    paras = [" ".join(p.split()) for p in text.split("\n")]
    paras = [p for p in paras if p]
    out: list[str] = []
    total = 0
    for p in paras:
        if total and total + len(p) > limit:
            break
        out.append(p)
        total += len(p)
    result = "\n\n".join(out).replace("\\", "\\\\").replace('"""', "'''")
    return result


def wrap(text: str, indent: str, width: int = 100) -> str:
    lines: list[str] = []
    for para in text.split("\n\n"):
        lines.extend(textwrap.wrap(para, width=width - len(indent)) or [""])
        lines.append("")
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(indent + line if line else "" for line in lines)


class Generator:
    def __init__(self, service: dict[str, Any], paginators: dict[str, Any]) -> None:
        self.service = service
        self.shapes: dict[str, Any] = service["shapes"]
        self.ops: dict[str, Any] = dict(sorted(service["operations"].items()))
        self.botocore_paginators: dict[str, Any] = paginators.get("pagination", {})
        self.typed_shapes: set[str] = set()

    # ----- types -----------------------------------------------------------------------------------------
    def py_type(self, shape_name: str, *, for_input: bool) -> str:
        shape = self.shapes[shape_name]
        t = shape["type"]
        if t == "string":
            if "enum" in shape and len(shape["enum"]) <= 12:
                return "Literal[" + ", ".join(repr(v) for v in shape["enum"]) + "] | str"
            return "str"
        if t in ("integer", "long"):
            return "int"
        if t == "boolean":
            return "bool"
        if t in ("float", "double"):
            return "float"
        if t == "timestamp":
            return "datetime | float | int | str" if for_input else "datetime"
        if t == "blob":
            return "bytes | str" if for_input else "bytes"
        if t == "list":
            inner = self.py_type(shape["member"]["shape"], for_input=for_input)
            return f"Sequence[{inner}]" if for_input else f"list[{inner}]"
        if t == "map":
            k = self.py_type(shape["key"]["shape"], for_input=for_input)
            v = self.py_type(shape["value"]["shape"], for_input=for_input)
            return f"Mapping[{k}, {v}]" if for_input else f"dict[{k}, {v}]"
        if t == "structure":
            self.typed_shapes.add(shape_name)
            return f"{shape_name}TypeDef"
        raise ValueError(f"unknown shape type {t}")

    def runtime_kind(self, shape_name: str) -> str:
        """The basic Python type(s) a top-level parameter is checked against before sending."""
        t = self.shapes[shape_name]["type"]
        return {
            "string": "str",
            "integer": "int",
            "long": "int",
            "boolean": "bool",
            "list": "list",
            "map": "dict",
            "structure": "dict",
            "timestamp": "timestamp",
            "blob": "blob",
            "float": "float",
            "double": "float",
        }[t]

    # ----- response plans (where timestamps and blobs need converting) -----------------------------------
    def plan(self, shape_name: str, stack: tuple[str, ...] = ()) -> Any:
        shape = self.shapes[shape_name]
        t = shape["type"]
        if t == "timestamp":
            return "T"
        if t == "blob":
            return "B"
        if shape_name in stack:
            return None
        stack = stack + (shape_name,)
        if t == "list":
            inner = self.plan(shape["member"]["shape"], stack)
            return ("L", inner) if inner is not None else None
        if t == "map":
            inner = self.plan(shape["value"]["shape"], stack)
            return ("M", inner) if inner is not None else None
        if t == "structure":
            members = {}
            for name, m in shape["members"].items():
                p = self.plan(m["shape"], stack)
                if p is not None:
                    members[name] = p
            return members or None
        return None

    # ----- paginated listings ------------------------------------------------------------------------------
    def paginated(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for name, op in self.ops.items():
            if "output" not in op:
                continue
            inp = self.shapes[op["input"]["shape"]]
            out = self.shapes[op["output"]["shape"]]
            tokens = [t for t in TOKEN_NAMES if t in inp["members"] and t in out["members"]]
            lists = [k for k, v in out["members"].items() if self.shapes[v["shape"]]["type"] == "list"]
            if not tokens or len(lists) != 1:
                continue
            limit_key = next((k for k in ("Limit", "MaxResults") if k in inp["members"]), None)
            entry: dict[str, Any] = {
                "operation": name,
                "input_token": tokens[0],
                "output_token": tokens[0],
                "limit_key": limit_key,
                "result_key": lists[0],
                "limit_required": bool(limit_key and limit_key in inp.get("required", [])),
                "max_limit": self.shapes[inp["members"][limit_key]["shape"]].get("max")
                if limit_key
                else None,
            }
            bp = self.botocore_paginators.get(name)
            if bp:  # botocore's table agrees with the derivation; trust it where present
                entry.update(
                    input_token=bp["input_token"],
                    output_token=bp["output_token"],
                    limit_key=bp.get("limit_key", limit_key),
                    result_key=bp["result_key"],
                )
            found[name] = entry
        return found

    @staticmethod
    def all_method_name(op_name: str) -> str:
        s = snake(op_name)
        if s.startswith("admin_list_"):
            return "admin_list_all_" + s[len("admin_list_") :]
        assert s.startswith("list_"), op_name
        return "list_all_" + s[len("list_") :]

    # ----- emitters ------------------------------------------------------------------------------------------
    def signed(self, op: dict[str, Any]) -> bool:
        auth = op.get("auth")
        if auth is not None:
            return auth != ["smithy.api#noAuth"]
        return op.get("authtype") != "none"

    def method_params(
        self, op: dict[str, Any], skip: tuple[str, ...] = ()
    ) -> list[tuple[str, str, bool, str]]:
        inp = self.shapes[op["input"]["shape"]] if "input" in op else {"members": {}}
        required = set(inp.get("required", []))
        params = []
        for name, m in inp["members"].items():
            if name in skip:
                continue
            params.append((name, self.py_type(m["shape"], for_input=True), name in required, m["shape"]))
        params.sort(key=lambda p: not p[2])  # required first, model order otherwise
        return params

    def output_type(self, op: dict[str, Any]) -> str:
        if "output" not in op:
            return "ResponseTypeDef"
        self.typed_shapes.add(op["output"]["shape"])
        return f"{op['output']['shape']}TypeDef"

    def emit_operations(self) -> str:
        pag = self.paginated()
        lines: list[str] = [
            '"""Generated by scripts/generate_operations.py from botocore\'s cognito-idp model. Do not edit.',
            "",
            f"{len(self.ops)} operations; {len(pag)} paginated listings.",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            "from typing import TYPE_CHECKING, Any",
            "",
            "from .model import OperationSpec, PaginatedSpec, defer_required",
            "from .paginate import Paginator",
            "",
            "if TYPE_CHECKING:",
            "    from collections.abc import Mapping, Sequence",
            "    from datetime import datetime",
            "    from typing import Literal",
            "",
            "    from ..type_defs import (",
            "@@TYPE_IMPORTS@@",
            "    )",
            "",
            f"OPERATION_COUNT = {len(self.ops)}",
            "",
            "OPERATIONS: dict[str, OperationSpec] = {",
        ]
        for name, op in self.ops.items():
            inp = self.shapes[op["input"]["shape"]] if "input" in op else {"members": {}}
            required = tuple(inp.get("required", []))
            kinds = {k: self.runtime_kind(m["shape"]) for k, m in inp["members"].items()}
            out_plan = self.plan(op["output"]["shape"]) if "output" in op else None
            in_plan = self.plan(op["input"]["shape"]) if "input" in op else None
            lines.append(
                f"    {name!r}: OperationSpec({name!r}, signed={self.signed(op)!r}, required={required!r}, "
                f"kinds={kinds!r}, output_plan={out_plan!r}"
                + (f", input_plan={in_plan!r}" if in_plan else "")
                + "),"
            )
        lines.append("}")
        lines.append("")
        lines.append("PAGINATED: dict[str, PaginatedSpec] = {")
        for name, p in pag.items():
            lines.append(
                f"    {self.all_method_name(name)!r}: PaginatedSpec({name!r}, input_token={p['input_token']!r}, "
                f"output_token={p['output_token']!r}, limit_key={p['limit_key']!r}, result_key={p['result_key']!r}, "
                f"limit_required={p['limit_required']!r}, max_limit={p['max_limit']!r}),"
            )
        lines.append("}")
        lines.append("")
        lines.append("")
        lines.append("class OperationsMixin:")
        lines.append(
            '    """One async method per Cognito user-pool operation, named and shaped like boto3\'s."""'
        )
        lines.append("")
        lines.append("    __slots__ = ()")
        lines.append("")
        lines.append("    async def _invoke(self, spec: OperationSpec, params: dict[str, Any]) -> Any:")
        lines.append("        raise NotImplementedError")
        lines.append("")
        lines.append(
            "    def _paginate(self, spec: PaginatedSpec, params: dict[str, Any]) -> Paginator[Any]:"
        )
        lines.append("        raise NotImplementedError")
        for name, op in self.ops.items():
            lines.extend(self.emit_method(name, op))
        for name, p in pag.items():
            lines.extend(self.emit_list_all(name, self.ops[name], p))
        lines.extend(
            [
                "",
                "",
                "# Required parameters have no default above, so type checkers keep them required. At run time they",
                "# default to model.MISSING: leaving one out raises ParamValidationError naming it, not TypeError.",
                "defer_required(OperationsMixin)",
            ]
        )
        text = "\n".join(lines) + "\n"
        used = sorted(set(re.findall(r"\b(\w+TypeDef)\b", text)))
        return text.replace("@@TYPE_IMPORTS@@", "\n".join(f"        {n}," for n in used))

    def signature(self, params: list[tuple[str, str, bool, str]]) -> list[str]:
        sig = ["        self,"]
        if params:
            sig.append("        *,")
        for pname, ptype, req, _ in params:
            if req:
                sig.append(f"        {pname}: {ptype},")
            else:
                sig.append(f"        {pname}: {ptype} | None = None,")
        return sig

    def body(self, params: list[tuple[str, str, bool, str]]) -> list[str]:
        req = [p for p in params if p[2]]
        opt = [p for p in params if not p[2]]
        init = ", ".join(f"{p[0]!r}: {p[0]}" for p in req)
        out = [f"        params: dict[str, Any] = {{{init}}}"]
        for pname, *_ in opt:
            out.append(f"        if {pname} is not None:")
            out.append(f"            params[{pname!r}] = {pname}")
        return out

    def emit_method(self, name: str, op: dict[str, Any]) -> list[str]:
        method = snake(name)
        assert not keyword.iskeyword(method)
        params = self.method_params(op)
        ret = self.output_type(op)
        doc = doc_text(op.get("documentation"))
        signed = "signed with SigV4 (IAM)" if self.signed(op) else "unsigned (no AWS credentials needed)"
        ref = f"https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_{name}.html"
        lines = ["", f"    async def {method}("]
        lines.extend(self.signature(params))
        lines.append(f"    ) -> {ret}:")
        lines.append(f'        """{name}: {signed}.')
        lines.append("")
        if doc:
            lines.append(wrap(doc, "        "))
            lines.append("")
        lines.append(f"        See {ref}")
        lines.append('        """')
        lines.extend(self.body(params))
        lines.append(
            f"        return await self._invoke(OPERATIONS[{name!r}], params)  # type: ignore[no-any-return]"
        )
        return lines

    def emit_list_all(self, name: str, op: dict[str, Any], p: dict[str, Any]) -> list[str]:
        method = self.all_method_name(name)
        params = self.method_params(op, skip=(p["input_token"],))
        out_shape = self.shapes[op["output"]["shape"]]
        item_shape = self.shapes[out_shape["members"][p["result_key"]]["shape"]]["member"]["shape"]
        item_type = self.py_type(item_shape, for_input=False)
        lines = ["", f"    def {method}("]
        if p["limit_key"] and p["limit_required"]:
            # A required page size gets the largest allowed value by default.
            params = [(n, t, False if n == p["limit_key"] else r, s) for (n, t, r, s) in params]
            params.sort(key=lambda x: not x[2])
        lines.extend(self.signature(params))
        lines.append(f"    ) -> Paginator[{item_type}]:")
        lines.append(
            f'        """Iterate over every item of {name} ({p["result_key"]}), one page in memory at a time.'
        )
        lines.append("")
        lines.append(
            "        ``async for item in ...`` yields items; ``.pages()`` yields the raw responses. "
            + (
                f"{p['limit_key']} sets the page size"
                if p["limit_key"]
                else "The service chooses the page size"
            )
            + (f" (default {p['max_limit']})." if p["limit_required"] else ".")
        )
        lines.append('        """')
        lines.extend(self.body(params))
        lines.append(f"        return self._paginate(PAGINATED[{method!r}], params)")
        return lines

    def emit_errors(self) -> str:
        errors = {k: v for k, v in sorted(self.shapes.items()) if v.get("exception")}
        lines = [
            '"""Generated by scripts/generate_operations.py from botocore\'s cognito-idp model. Do not edit.',
            "",
            "One class per error code, named exactly as the service names it; ``ERROR_CLASSES`` maps code to class.",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            "from .._errors import ServiceError",
            "",
            "__all__ = [",
        ]
        names = sorted(list(errors) + list(COMMON_ERRORS))
        lines.extend(f"    {n!r}," for n in names)
        lines.append("    'ERROR_CLASSES',")
        lines.append("]")
        for name, shape in errors.items():
            doc = doc_text(shape.get("documentation"), limit=300) or name
            lines += ["", "", f"class {name}(ServiceError):", f'    """{doc}"""', "", f"    code = {name!r}"]
        for name, doc in COMMON_ERRORS.items():
            lines += [
                "",
                "",
                f"class {name}(ServiceError):",
                f'    """{doc} (Not in the model; AWS JSON protocol.)"""',
                "",
                f"    code = {name!r}",
            ]
        lines += ["", "", "ERROR_CLASSES: dict[str, type[ServiceError]] = {"]
        lines.extend(f"    {n!r}: {n}," for n in names)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def emit_type_defs(self) -> str:
        # Close over every structure reachable from the typed shapes.
        todo = list(self.typed_shapes)
        emitted: dict[str, list[str]] = {}
        while todo:
            name = todo.pop()
            if name in emitted:
                continue
            shape = self.shapes[name]
            before = set(self.typed_shapes)
            required = set(shape.get("required", []))
            body = []
            for mname, m in shape["members"].items():
                t = self.py_type(m["shape"], for_input=False)
                body.append(f"    {mname}: {'Required' if mname in required else 'NotRequired'}[{t}]")
            if not body:
                body = ["    pass"]
            doc = doc_text(shape.get("documentation"), limit=200)
            head = [f"class {name}TypeDef(TypedDict):"]
            if doc:
                head.append(f'    """{doc}"""')
                head.append("")
            emitted[name] = head + body
            todo.extend(self.typed_shapes - before)
        lines = [
            '"""Generated by scripts/generate_operations.py from botocore\'s cognito-idp model. Do not edit.',
            "",
            "TypedDicts for every request and response structure, for type checkers. Responses also carry",
            "``ResponseMetadata``. aiocognito itself imports this module only while type checking.",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            "from datetime import datetime",
            "from typing import Literal",
            "",
            "from typing_extensions import NotRequired, Required, TypedDict",
            "",
            "",
            "class ResponseMetadataTypeDef(TypedDict):",
            '    """What every response carries besides its modeled members."""',
            "",
            "    RequestId: str",
            "    HTTPStatusCode: int",
            "    HTTPHeaders: dict[str, str]",
            "    RetryAttempts: int",
            "",
            "",
            "class ResponseTypeDef(TypedDict):",
            '    """The response of an operation with no modeled output."""',
            "",
            "    ResponseMetadata: ResponseMetadataTypeDef",
        ]
        for name in sorted(emitted):
            lines += ["", ""] + emitted[name]
            if name.endswith("Response") and any(
                name == o.get("output", {}).get("shape") for o in self.ops.values()
            ):
                lines.append("    ResponseMetadata: NotRequired[ResponseMetadataTypeDef]")
        return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model")
    ap.add_argument("--paginators")
    ap.add_argument("--installed", action="store_true")
    ap.add_argument("--fetch-wheel", metavar="WHEEL")
    ap.add_argument("--out", default=str(PKG), help="where to write the modules (default: the package)")
    args = ap.parse_args(argv)
    if args.fetch_wheel:
        fetch_wheel(args.fetch_wheel)
    service, paginators = load_model(args)
    gen = Generator(service, paginators)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "_wire").mkdir(parents=True, exist_ok=True)
    (out / "_wire" / "operations.py").write_text(gen.emit_operations(), encoding="utf-8")
    (out / "_wire" / "error_codes.py").write_text(gen.emit_errors(), encoding="utf-8")
    (out / "type_defs.py").write_text(gen.emit_type_defs(), encoding="utf-8")
    print(f"{len(gen.ops)} operations, {len(gen.paginated())} paginated listings", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
