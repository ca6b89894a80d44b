"""How the dashboard is served: Streamlit's own server, plus one piece of ASGI middleware.

A page opened at its own address (/partnership?kpi=EH01, a deep link from a board paper) makes Streamlit's
front end guess where the server is: it first tries /partnership/_stcore/health, gets a 404, waits 100 ms
and then tries /. That is Streamlit issue #7074; its maintainers' way out (PR #11537) is for the page's
HTML to say where the server is, in `window.__streamlit.BACKEND_BASE_URL`. `PageAddressBase` adds that one
line to the HTML of a page address, so the front end connects at the first try.

The address is worked out in the browser, relative to the page (`new URL(".", location.href)`), so it stays
right behind a proxy that serves the dashboard under a path of its own. Only Streamlit's HTML for a
one-segment page address is touched; every other request (the root, scripts, the health check, uploads,
the websocket) passes through unchanged.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Run before Streamlit's script (a module script, which waits for the page to be parsed). Fixed text: nothing
# from the request goes into it.
BASE_ADDRESS_SCRIPT = (b'<script>window.__streamlit = Object.assign({}, window.__streamlit, '
                       b'{BACKEND_BASE_URL: new URL(".", location.href).href});</script>')
PAGE_ADDRESS = re.compile(r"/[A-Za-z0-9_-]+")  # a page's url_path, as st.Page allows; no dots, so no files
# Request headers that would get a compressed or "not modified" answer, which cannot take the script.
_DROPPED_REQUEST_HEADERS = {b"accept-encoding", b"if-none-match", b"if-modified-since"}
# The answer changes, so its length changes and the file's validators no longer describe it.
_DROPPED_RESPONSE_HEADERS = {b"content-length", b"etag", b"last-modified"}


def base_url_path() -> str:
    """Streamlit's server.baseUrlPath ("" when the dashboard is served at the root)."""
    from streamlit import config

    return str(config.get_option("server.baseUrlPath") or "").strip("/")


def is_page_address(path: str, base: str = "") -> bool:
    """True for the address of a page below the dashboard's root (/partnership, /cypp/districts when
    base is "cypp"); false for the root itself, files, Streamlit's own routes and deeper paths."""
    prefix = f"/{base}" if base else ""
    return path.startswith(prefix) and PAGE_ADDRESS.fullmatch(path[len(prefix):]) is not None


def with_base_address(html: bytes) -> bytes:
    """The page's HTML with the base-address script first in its <head> (unchanged if it has no <head>)."""
    return html.replace(b"<head>", b"<head>" + BASE_ADDRESS_SCRIPT, 1)


class PageAddressBase:
    """ASGI middleware: adds BASE_ADDRESS_SCRIPT to the HTML Streamlit answers for a page address."""

    def __init__(self, app: ASGIApp, base: Callable[[], str] = base_url_path) -> None:
        self.app = app
        self.base = base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or not is_page_address(scope["path"],
                                                                                             self.base()):
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in _DROPPED_REQUEST_HEADERS]
        start: Message | None = None
        passing = False
        body: list[bytes] = []

        async def add_script(message: Message) -> None:
            nonlocal start, passing
            if message["type"] == "http.response.start":
                content_type = dict((k.lower(), v) for k, v in message.get("headers", [])).get(b"content-type", b"")
                passing = message["status"] != 200 or not content_type.startswith(b"text/html")
                if passing:
                    await send(message)
                else:
                    start = message
                return
            if passing or start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            html = with_base_address(b"".join(body))
            kept = [(k, v) for k, v in start.get("headers", []) if k.lower() not in _DROPPED_RESPONSE_HEADERS]
            await send({**start, "headers": [*kept, (b"content-length", str(len(html)).encode("ascii"))]})
            await send({"type": "http.response.body", "body": html, "more_body": False})

        await self.app({**scope, "headers": headers}, receive, add_script)
