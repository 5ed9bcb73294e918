"""GraphiQL served from pinned local assets, so it works with no internet access.

`make graphiql` (run by `make run`) installs the pinned npm packages listed in
`graphiql/package.json` and copies their browser bundles into `api/static/graphiql/`.
Without them, `GET /graphql` explains how to get them and the API itself still works.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
ASSETS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
)


def assets_present() -> bool:
    return all((STATIC_DIR / name).is_file() for name in ASSETS)


PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>likegraph GraphiQL</title>
  <link rel="stylesheet" href="/static/graphiql/graphiql.min.css">
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/static/graphiql/react.production.min.js"></script>
  <script src="/static/graphiql/react-dom.production.min.js"></script>
  <script src="/static/graphiql/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: "/graphql" }});
    const root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(React.createElement(GraphiQL, {{
      fetcher,
      defaultEditorToolsVisibility: true,
      defaultQuery: {default_query},
    }}));
  </script>
</body>
</html>
"""

DEFAULT_QUERY = """# Log in with a demo account (see `likegraph demo`), put the token in the
# Headers tab as {"Authorization": "Bearer <token>"}, and compare viewers.
{
  account(handle: "alice") {
    handle
    videos(first: 1) {
      edges {
        node {
          caption
          likeCount
          likers(first: 10) { edges { node { handle isPrivate } likedAt } }
        }
      }
    }
  }
}
"""

MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>likegraph</title></head>
<body>
<h1>likegraph</h1>
<p>The GraphQL API is served here: <code>POST /graphql</code>.</p>
<p>GraphiQL's assets are not installed. Run <code>make graphiql</code> (needs npm)
and reload this page.</p>
</body></html>
"""


def graphiql_html() -> str:
    import json

    if not assets_present():
        return MISSING
    return PAGE.format(default_query=json.dumps(DEFAULT_QUERY))


def graphiql_routes() -> list[Mount]:
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    return [Mount("/static/graphiql", app=StaticFiles(directory=STATIC_DIR), name="graphiql")]
