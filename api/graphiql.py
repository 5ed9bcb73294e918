"""GraphiQL served from pinned local assets, so it works with no internet access.

`make graphiql` (run by `make run`) installs the pinned npm packages of
`graphiql/package.json` and copies their browser bundles into `api/static/graphiql/`
(`python -m api.graphiql_assets`). Without them, `GET /graphql` in a browser explains how
to get them, and the API itself still works.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
STATIC_URL = "/static/graphiql"
# Load order matters: GraphiQL's bundle expects the React and ReactDOM globals.
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")
STYLESHEETS = ("graphiql.min.css",)
ASSETS = (*SCRIPTS, *STYLESHEETS)

DEFAULT_QUERY = """# likeCount is public; likers depend on the viewer.
# Log in as a demo account (see `likegraph demo`), put
#   {"Authorization": "Bearer <token>"}
# in the Headers tab below, and run this again.
{
  account(handle: "alice") {
    handle
    videos(first: 1) {
      edges {
        node {
          caption
          likeCount
          likers(first: 10) {
            edges {
              node { handle isPrivate }
              likedAt
            }
          }
        }
      }
    }
  }
}
"""

BOOT_SCRIPT = f"""
const fetcher = GraphiQL.createFetcher({{ url: "/graphql" }});
const root = ReactDOM.createRoot(document.getElementById("graphiql"));
root.render(React.createElement(GraphiQL, {{
  fetcher,
  defaultEditorToolsVisibility: true,
  defaultQuery: {json.dumps(DEFAULT_QUERY)},
}}));
"""

_BOOT_HASH = base64.b64encode(hashlib.sha256(BOOT_SCRIPT.encode()).digest()).decode()

# Everything the page loads comes from this server: the policy makes a stray CDN URL fail
# in development exactly as it would on a machine with no internet access. GraphiQL's
# components set inline styles, hence 'unsafe-inline' for styles only; its fonts are
# data: URLs inside the stylesheet.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        f"script-src 'self' 'sha256-{_BOOT_HASH}'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

PAGE = (
    """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>likegraph GraphiQL</title>
"""
    + "".join(f'  <link rel="stylesheet" href="{STATIC_URL}/{name}">\n' for name in STYLESHEETS)
    + """  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
"""
    + "".join(f'  <script src="{STATIC_URL}/{name}"></script>\n' for name in SCRIPTS)
    + f"  <script>{BOOT_SCRIPT}</script>\n</body>\n</html>\n"
)

MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>likegraph</title></head>
<body>
<h1>likegraph</h1>
<p>The GraphQL API is served here: send <code>POST /graphql</code> with a JSON body
<code>{"query": "…", "variables": {…}}</code>.</p>
<p>GraphiQL's assets are not installed. Run <code>make graphiql</code> (it needs npm)
and reload this page.</p>
</body></html>
"""


def assets_present() -> bool:
    return all((STATIC_DIR / name).is_file() for name in ASSETS)


def graphiql_html() -> str:
    return PAGE if assets_present() else MISSING


def graphiql_response() -> HTMLResponse:
    return HTMLResponse(
        graphiql_html(),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def graphiql_routes() -> list[Mount]:
    # StaticFiles refuses a missing directory: an empty one serves 404s until assets arrive.
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    return [Mount(STATIC_URL, app=StaticFiles(directory=STATIC_DIR), name="graphiql")]
