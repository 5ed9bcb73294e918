"""GraphQL over HTTP, as its specification says: media types, status codes, limits.

Authentication follows Starlette's split: no `Authorization` header is the anonymous
viewer; a header that is malformed, forged or expired is a 401, never anonymous.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.context import Context
from api.cursors import CursorCodec
from api.errors import Unauthenticated
from api.graphiql import graphiql_html
from api.schema import schema
from api.settings import Settings
from auth.tokens import InvalidToken, viewer_from_authorization

MAX_BODY_BYTES = 256 * 1024
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class RequestError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _accepted_media_type(request: Request) -> str | None:
    """The response media type the client accepts, preferring the GraphQL one."""
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return GRAPHQL_RESPONSE
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranges.append(media.lower())
    for candidate in (GRAPHQL_RESPONSE, JSON):
        if candidate in ranges:
            return candidate
    if "*/*" in ranges or "application/*" in ranges:
        return GRAPHQL_RESPONSE
    return None


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class GraphQLEndpoint:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cursors = CursorCodec(settings.secret)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        if request.method == "GET" and self._wants_graphiql(request):
            return HTMLResponse(graphiql_html())
        media_type = _accepted_media_type(request)
        if media_type is None:
            return JSONResponse(
                _error_body(
                    "Accept application/graphql-response+json or application/json.", "BAD_REQUEST"
                ),
                status_code=406,
            )
        try:
            params = await self._params(request)
            viewer = viewer_from_authorization(
                request.headers.get("authorization"), self.settings.secret
            )
        except RequestError as exc:
            return Response(
                json.dumps(_error_body(exc.message, "BAD_REQUEST")),
                status_code=exc.status,
                media_type=media_type,
                headers=exc.headers,
            )
        except InvalidToken as exc:
            return Response(
                json.dumps(_error_body(str(exc), Unauthenticated.code)),
                status_code=401,
                media_type=media_type,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        context = Context(viewer=viewer, settings=self.settings, cursors=self.cursors)
        try:
            result = await schema.execute(
                params["query"],
                variable_values=params.get("variables"),
                context_value=context,
                operation_name=params.get("operationName"),
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError:
            return Response(
                json.dumps(_error_body("Mutations must be sent with POST.", "BAD_REQUEST")),
                status_code=405,
                media_type=media_type,
                headers={"Allow": "POST"},
            )
        except (CannotGetOperationTypeError, MissingQueryError) as exc:
            message = (
                "Missing query." if isinstance(exc, MissingQueryError) else "Unknown operation."
            )
            return Response(
                json.dumps(_error_body(message, "BAD_USER_INPUT")),
                status_code=400,
                media_type=media_type,
            )
        return self._result_response(result, media_type)

    @staticmethod
    def _wants_graphiql(request: Request) -> bool:
        accept = request.headers.get("accept", "")
        return "text/html" in accept and "query" not in request.query_params

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            raw: dict[str, Any] = dict(request.query_params)
            for key in ("variables", "extensions"):
                if key in raw:
                    try:
                        raw[key] = json.loads(raw[key])
                    except ValueError as exc:
                        raise RequestError(400, f"`{key}` is not valid JSON.") from exc
        else:
            content_type = request.headers.get("content-type", "")
            if content_type.split(";")[0].strip().lower() != JSON:
                raise RequestError(415, "Send the request body as application/json.")
            body = await self._body(request)
            try:
                raw = json.loads(body)
            except ValueError as exc:
                raise RequestError(400, "The request body is not valid JSON.") from exc
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
    async def _body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise RequestError(413, f"The request body is over {MAX_BODY_BYTES} bytes.")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise RequestError(413, f"The request body is over {MAX_BODY_BYTES} bytes.")
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
        status = 400 if request_error and media_type == GRAPHQL_RESPONSE else 200
        return Response(json.dumps(body), status_code=status, media_type=media_type)
