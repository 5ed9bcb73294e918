"""Raw SQL statements with numbered placeholders, for the queries the ORM cannot shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from models import routing
from models.sqlite_reads import inline_reads_for


def is_postgres(client: BaseDBAsyncClient) -> bool:
    return client.capabilities.dialect == "postgres"


class Sql:
    """Builds one statement with numbered placeholders (`?N` in SQLite, `$N` in PostgreSQL).

    Numbered placeholders let fragments be composed in any order, so the policy's SQL
    conditions can be spliced into queries written elsewhere.
    """

    def __init__(self, client: BaseDBAsyncClient | None = None) -> None:
        self.client = client or connections.get("default")
        # Only a statement that did not name its connection may be sent to a replica.
        self._routed = client is None
        self.params: list[Any] = []
        self._marker = "$" if is_postgres(self.client) else "?"

    def p(self, value: Any) -> str:
        self.params.append(value)
        return f"{self._marker}{len(self.params)}"

    def ps(self, values: Sequence[Any]) -> str:
        return ", ".join(self.p(v) for v in values)

    async def rows(self, text: str) -> list[dict[str, Any]]:
        if self._routed and routing.active():
            routed = await routing.replica_rows(self.client, text, self.params)
            if routed is not None:
                return routed
        inline = inline_reads_for(self.client)
        if inline is not None and (rows := inline.rows(text, self.params)) is not None:
            return rows
        return [dict(r) for r in await self.client.execute_query_dict(text, self.params)]

    async def execute(self, text: str) -> tuple[int, Sequence[dict[str, Any]]]:
        return await self.client.execute_query(text, self.params)
