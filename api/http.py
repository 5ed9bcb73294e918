"""GraphQL over HTTP, as its specification says: media types, status codes, limits.

Authentication follows Starlette's split: no `Authorization` header is the anonymous
viewer; a header that is malformed, forged or expired, or whose session has ended, is a
401, never anonymous.
`tests/test_http_audit.py` runs graphql-http's audit of the specification against it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from graphql import get_operation_ast
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.context import Context
from api.cursors import CursorCodec
from api.errors import INTERNAL_MESSAGE, AppError, BadUserInput, Unauthenticated
from api.graphiql import graphiql_response
from api.ids import IdCodec, keyed
from api.limits import several_operations
from api.schema import parsed, schema
from api.settings import Settings
from auth.sessions import authenticate
from auth.tokens import InvalidToken
from models import routing

log = logging.getLogger("likegraph.http")

MAX_BODY_BYTES = 256 * 1024
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# The contract has no code of its own for a malformed HTTP request: it is bad user input.
BAD_REQUEST = BadUserInput.code


class RequestError(Exception):
    """A request that is not a GraphQL request at all: it gets a status and no execution."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def negotiate(accept: str) -> str | None:
    """The response media type for an `Accept` header, honouring its q-values.

    No header, `*/*` and `application/*` get `application/json`, as GraphQL over HTTP
    asks during its watershed period (older clients know no other type); a client that
    names `application/graphql-response+json` gets it unless it prefers `application/json`.
    None when neither type is acceptable.
    """
    if not accept.strip():
        return JSON
    named: dict[str, float] = {}
    wildcard = 0.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        quality = _quality(params)
        if media in (GRAPHQL_RESPONSE, JSON):
            named[media] = max(named.get(media, 0.0), quality)
        elif media in ("*/*", "application/*"):
            wildcard = max(wildcard, quality)
    # A type named explicitly takes its own q-value, even 0 (HTTP's most specific range).
    graphql_q = named.get(GRAPHQL_RESPONSE, 0.0)
    json_q = named.get(JSON, wildcard)
    if graphql_q > 0 and graphql_q >= json_q:
        return GRAPHQL_RESPONSE
    if json_q > 0:
        return JSON
    return None


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _json_response(
    body: dict[str, Any],
    status: int,
    media_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    try:
        content = orjson.dumps(body)
    except orjson.JSONEncodeError:
        # A message that quotes the client's own input may hold a lone surrogate (valid in
        # JSON text, no UTF-8 form): written as the \ud800 escape the client sent.
        content = json.dumps(body, ensure_ascii=True).encode()
    # The charset is stated so that no client guesses another (the spec requires utf-8).
    return Response(
        content,
        status_code=status,
        headers={"Content-Type": f"{media_type}; charset=utf-8", **(headers or {})},
    )


def _json(text: str | bytes, invalid: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as exc:
        # json's decoder recurses once per level: 100,000 nested brackets exhaust the stack.
        raise RequestError(400, "The JSON is nested too deeply.") from exc
    except ValueError as exc:
        raise RequestError(400, invalid) from exc


def _is_query(params: dict[str, Any]) -> bool:
    document = parsed(params["query"]) if isinstance(params.get("query"), str) else None
    if document is None:
        return False
    operation = get_operation_ast(document, params.get("operationName"))
    return operation is not None and operation.operation.value == "query"


class GraphQLEndpoint:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cursors = CursorCodec(settings.secret)
        self.ids = IdCodec(settings.secret)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        with keyed(self.ids):  # this app's ID key, whatever another app configured
            response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        if not routing.active():
            return await self._handle(request)
        with routing.request_reads():
            return await self._handle(request)

    async def _handle(self, request: Request) -> Response:
        reading = request.method in ("GET", "HEAD")
        if reading and self._wants_graphiql(request):
            return graphiql_response()
        media_type = negotiate(request.headers.get("accept", ""))
        if media_type is None:
            return _json_response(
                _error_body(
                    "Accept application/graphql-response+json or application/json.", BAD_REQUEST
                ),
                406,
                JSON,
            )
        try:
            params = await self._params(request, reading)
            if routing.active() and _is_query(params):
                # With read replicas a query's plain reads may use one (models/routing.py);
                # a mutation's never do: it reads what it wrote and what it narrowed.
                routing.allow_replica_reads()
            viewer = await authenticate(
                self._authorization(request),
                self.settings.secret,
                recheck_seconds=self.settings.session_recheck,
            )
        except RequestError as exc:
            return _json_response(
                _error_body(exc.message, BAD_REQUEST), exc.status, media_type, exc.headers
            )
        except InvalidToken as exc:
            return _json_response(
                _error_body(str(exc), Unauthenticated.code),
                401,
                media_type,
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        except Exception:
            # The session check reads the database: a failure there is masked like any other.
            log.exception("internal error while authenticating a request")
            return _json_response(_error_body(INTERNAL_MESSAGE, AppError.code), 500, media_type)
        # GET is safe: a mutation sent with it is refused before it runs (405).
        allowed = (
            {OperationType.QUERY} if reading else {OperationType.QUERY, OperationType.MUTATION}
        )
        if params["operationName"] is None:
            # Checked before strawberry picks the first operation's type (GET and POST alike).
            document = parsed(params["query"])
            if document is not None and several_operations(document):
                return self._request_error(
                    "The document holds several operations: name the one to run"
                    " in `operationName`.",
                    media_type,
                )
        context = Context(viewer=viewer, settings=self.settings, cursors=self.cursors)
        try:
            result = await schema.execute(
                params["query"],
                variable_values=params["variables"],
                context_value=context,
                operation_name=params["operationName"],
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError:
            return _json_response(
                _error_body("Mutations must be sent with POST.", BAD_REQUEST),
                405,
                media_type,
                {"Allow": "POST"},
            )
        except CannotGetOperationTypeError:
            # An operationName that names no operation of the document is a request error.
            return self._request_error(
                "Unknown operation: `operationName` must name an operation of the document.",
                media_type,
            )
        except MissingQueryError:
            return self._request_error(
                "Missing query: send the GraphQL document as `query`.", media_type
            )
        except Exception:
            # Whatever escaped the schema is still masked: no trace, SQL or class name.
            log.exception("internal error outside GraphQL execution")
            return _json_response(_error_body(INTERNAL_MESSAGE, AppError.code), 500, media_type)
        return self._result_response(result, media_type)

    @staticmethod
    def _request_error(message: str, media_type: str) -> Response:
        # A request error, like a variable that does not coerce: 400 only for the new media type.
        status = 400 if media_type == GRAPHQL_RESPONSE else 200
        return _json_response(_error_body(message, BAD_REQUEST), status, media_type)

    @staticmethod
    def _authorization(request: Request) -> str | None:
        # Proxies and clients disagree on which of two headers counts: neither does.
        headers = request.headers.getlist("authorization")
        if len(headers) > 1:
            raise InvalidToken("Send one Authorization header, not several.")
        return headers[0] if headers else None

    @staticmethod
    def _wants_graphiql(request: Request) -> bool:
        accept = request.headers.get("accept", "")
        return "text/html" in accept.lower() and "query" not in request.query_params

    async def _params(self, request: Request, reading: bool) -> dict[str, Any]:
        if reading:
            raw: dict[str, Any] = dict(request.query_params)
            for key in ("variables", "extensions"):
                if key in raw:
                    raw[key] = _json(raw[key], f"`{key}` is not valid JSON.")
        else:
            self._check_content_type(request.headers.get("content-type", ""))
            body = await self._body(request)
            raw = _json(body, "The request body is not valid JSON.")
            if not isinstance(raw, dict):
                raise RequestError(400, "The request body must be a JSON object.")
        query = raw.get("query")
        if not isinstance(query, str) or not query.strip():
            raise RequestError(400, "`query` must be a non-empty string.")
        variables = raw.get("variables")
        if variables is not None and not isinstance(variables, dict):
            raise RequestError(400, "`variables` must be an object.")
        operation_name = raw.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise RequestError(400, "`operationName` must be a string.")
        extensions = raw.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            raise RequestError(400, "`extensions` must be an object.")
        return {"query": query, "variables": variables, "operationName": operation_name}

    @staticmethod
    def _check_content_type(content_type: str) -> None:
        media, *params = (p.strip() for p in content_type.split(";"))
        if media.lower() != JSON:
            raise RequestError(415, "Send the request body as application/json.")
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
                "utf-8",
                "utf8",
            ):
                raise RequestError(415, "Send the request body encoded as utf-8.")

    @staticmethod
    async def _body(request: Request) -> bytes:
        too_large = RequestError(413, f"The request body is over {MAX_BODY_BYTES} bytes.")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _result_response(result: ExecutionResult, media_type: str) -> Response:
        body: dict[str, Any] = {}
        errors = [e.formatted for e in result.errors or []]
        if errors:
            body["errors"] = errors
        # Parse, validation and variable errors stop the request before any field runs:
        # they have no path, and the response then has no `data` entry at all.
        request_error = (
            result.data is None and bool(errors) and all("path" not in e for e in errors)
        )
        if not request_error:
            body["data"] = result.data
        # With application/json a request error is still a 200 (legacy clients read the body);
        # with the GraphQL media type it is a 400, as the specification asks.
        status = 400 if request_error and media_type == GRAPHQL_RESPONSE else 200
        return _json_response(body, status, media_type)
