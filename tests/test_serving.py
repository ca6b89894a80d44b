"""Serving: a page opened at its own address (a deep link) is told where the server is, so Streamlit's front
end connects at the first try instead of first probing /<page>/_stcore/health (Streamlit issue #7074).
Everything else Streamlit answers passes through untouched."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from cypp_dash.serving import BASE_ADDRESS_SCRIPT, PageAddressBase, is_page_address, with_base_address

INDEX = b"<!DOCTYPE html>\n<html>\n  <head>\n    <title>Streamlit</title>\n  </head>\n  <body></body>\n</html>\n"


def streamlit_like(body: bytes = INDEX, content_type: bytes = b"text/html; charset=utf-8", status: int = 200,
                   chunks: int = 1):
    """A stand-in for Streamlit's server: answers every request with `body`, noting the request it got."""
    seen = {}

    async def app(scope, receive, send):
        seen["scope"] = scope
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                                (b"etag", b'"abc"'), (b"cache-control", b"no-cache")]})
        size = -(-len(body) // chunks)
        for i in range(chunks):
            await send({"type": "http.response.body", "body": body[i * size:(i + 1) * size],
                        "more_body": i < chunks - 1})

    return app, seen


def run(coroutine) -> None:
    """Run a coroutine on its own thread's event loop (the browser tests' Playwright may own this thread's)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def request(app, path: str, method: str = "GET", headers=(), kind: str = "http") -> tuple[dict, bytes]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": kind, "method": method, "path": path, "headers": list(headers)}
    run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("path, base, expected", [
    ("/partnership", "", True),
    ("/about-data", "", True),
    ("/wider_outcomes", "", True),
    ("/", "", False),                        # the root connects at the first try anyway
    ("", "", False),
    ("/favicon.png", "", False),              # files
    ("/static/js/index.js", "", False),
    ("/_stcore/health", "", False),           # Streamlit's own routes
    ("/partnership/_stcore/health", "", False),
    ("/partnership/", "", False),             # Streamlit redirects these itself
    ("/cypp/partnership", "cypp", True),      # served under server.baseUrlPath
    ("/cypp", "cypp", False),
    ("/partnership", "cypp", False),
    ("/cyppx/partnership", "cypp", False),
])
def test_a_page_address_is_one_plain_segment_below_the_dashboards_root(path, base, expected):
    assert is_page_address(path, base) is expected


def test_the_script_goes_first_in_the_head_and_nothing_else_changes():
    changed = with_base_address(INDEX)
    assert changed == INDEX.replace(b"<head>", b"<head>" + BASE_ADDRESS_SCRIPT)
    assert changed.index(BASE_ADDRESS_SCRIPT) < changed.index(b"<title>")
    assert with_base_address(b"<p>no head</p>") == b"<p>no head</p>"


def test_the_script_works_the_address_out_in_the_browser_from_the_page_itself():
    """Fixed text with no part of the request in it; relative, so it holds behind a proxy's own path."""
    assert b'new URL(".", location.href)' in BASE_ADDRESS_SCRIPT
    assert b"BACKEND_BASE_URL" in BASE_ADDRESS_SCRIPT


@pytest.mark.parametrize("chunks", [1, 3])
def test_a_page_address_gets_the_html_with_the_script_and_a_correct_length(chunks):
    inner, _ = streamlit_like(chunks=chunks)
    start, body = request(PageAddressBase(inner, base=lambda: ""), "/partnership")
    assert start["status"] == 200
    assert body == with_base_address(INDEX)
    headers = dict(start["headers"])
    assert headers[b"content-length"] == str(len(body)).encode()
    assert b"etag" not in headers, "the file's validator no longer describes what was sent"
    assert headers[b"cache-control"] == b"no-cache"


def test_the_page_is_asked_for_uncompressed_and_unconditionally_so_the_script_can_go_in():
    inner, seen = streamlit_like()
    request(PageAddressBase(inner, base=lambda: ""), "/districts",
            headers=[(b"accept-encoding", b"gzip"), (b"if-none-match", b'"abc"'), (b"cookie", b"a=b")])
    names = [k for k, _ in seen["scope"]["headers"]]
    assert names == [b"cookie"]


@pytest.mark.parametrize("path, method, kind", [
    ("/", "GET", "http"),
    ("/static/js/index.js", "GET", "http"),
    ("/partnership", "HEAD", "http"),
    ("/partnership", "POST", "http"),
])
def test_every_other_request_passes_through_untouched(path, method, kind):
    inner, seen = streamlit_like()
    headers = [(b"accept-encoding", b"gzip")]
    start, body = request(PageAddressBase(inner, base=lambda: ""), path, method=method, headers=headers)
    assert body == INDEX
    assert seen["scope"]["headers"] == headers
    assert dict(start["headers"])[b"etag"] == b'"abc"'


@pytest.mark.parametrize("content_type, status", [(b"application/json", 200), (b"text/html", 404),
                                                  (b"text/html", 304)])
def test_an_answer_that_is_not_the_page_html_passes_through_untouched(content_type, status):
    inner, _ = streamlit_like(body=b"not html", content_type=content_type, status=status)
    start, body = request(PageAddressBase(inner, base=lambda: ""), "/partnership")
    assert (start["status"], body) == (status, b"not html")


def test_websockets_and_lifespan_pass_straight_through():
    calls = []

    async def inner(scope, receive, send):
        calls.append(scope["type"])

    middleware = PageAddressBase(inner, base=lambda: "")
    for kind in ("websocket", "lifespan"):
        run(middleware({"type": kind, "path": "/partnership"}, None, None))
    assert calls == ["websocket", "lifespan"]


def test_app_py_serves_dashboard_py_with_the_middleware():
    """`streamlit run app.py` finds the st.App and serves the navigation script through it."""
    import streamlit as st

    from cypp_dash.config import ROOT

    source = (ROOT / "app.py").read_text(encoding="utf-8")
    assert 'st.App("dashboard.py", middleware=[Middleware(PageAddressBase)])' in source
    from streamlit.web.server.app_discovery import discover_asgi_app

    assert discover_asgi_app(ROOT / "app.py").is_asgi_app
    assert hasattr(st, "App")
