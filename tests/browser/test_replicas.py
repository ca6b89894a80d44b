"""Many app processes on one PostgreSQL, in a real browser: an editor's upload through one server is seen
through another (whose cached pages were drawn before it); two uploads at once through two servers are
both loaded, one after the other, and nothing is lost; and deploy/replicas.sh brings up three replicas
behind HAProxy, where an editor signs in and uploads through the balancer and a second browser context
sees the figure."""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import devserver
import pytest
from devserver import DRAWN

from cypp_dash import auth, store

if not Path("/usr/bin/chromium").exists():
    pytest.skip("/usr/bin/chromium is missing (tests/run.sh installs it)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough password"
HEADER = b"kpi,area,period,value,numerator,denominator,note\n"


def _accounts(address: str) -> None:
    conn = store.connect(address)
    try:
        for name in ("eddie", "erin"):
            auth.add_user(conn, name, "editor", PASSWORD, actor="browser-test")
    finally:
        conn.close()
        store.close_process_connections()


@pytest.fixture(scope="module")
def shared_db(pg_server, _built_pg_template):
    """One PostgreSQL database (a copy of the bundled store) with two editors."""
    address = pg_server.create_database("cypp_two_servers", template=_built_pg_template)
    _accounts(address)
    yield address
    store.close_process_connections()
    pg_server.admin('DROP DATABASE IF EXISTS "cypp_two_servers" WITH (FORCE)')


@pytest.fixture(scope="module")
def two_servers(shared_db, browser, tmp_path_factory):
    logs = tmp_path_factory.mktemp("two-servers")
    env = {**os.environ, "CYPP_DB": shared_db}
    with devserver.serve("app.py", ROOT, env, logs / "a.log") as a, \
            devserver.serve("app.py", ROOT, env, logs / "b.log") as b:
        for url in (a, b):  # each server's first visitor is special (web.frame._through_app_navigation)
            context = browser.new_context()
            tab = context.new_page()
            tab.set_default_timeout(120_000)
            tab.goto(url)
            tab.wait_for_function(DRAWN, polling=100)
            context.close()
        yield a, b


def new_tab(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    return context, tab


def drawn(page) -> None:
    page.wait_for_function(DRAWN, polling=100)
    page.wait_for_timeout(300)


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def wait_for_text(page, words: str, timeout: float = 90_000) -> None:
    page.wait_for_function(f"() => document.body.innerText.includes({words!r})", polling=100, timeout=timeout)


def seen(page, words: str) -> None:
    """The page's main area shows these words once its run has finished drawing (within 30 s)."""
    try:
        page.wait_for_function(f"() => document.querySelector('[data-testid=\"stMain\"]').innerText"
                               f".includes({words!r})", polling=100, timeout=30_000)
    except Exception:
        page.screenshot(path=str(ROOT / "artifacts" / "replicas_not_seen.png"), full_page=True)
    assert words in main_text(page)


def go(page, menu_label: str) -> None:
    devserver.go(page, menu_label, drawn, timeout=90_000)


def sign_in(page, url: str, name: str) -> None:
    devserver.sign_in(page, url, name, PASSWORD, drawn, timeout=90_000)


def ready_to_load(page, name: str, data: bytes) -> None:
    """On the upload page, with the file checked and its Load button showing."""
    go(page, "Upload figures")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    wait_for_text(page, "passed every check")
    drawn(page)


def load(page) -> None:
    page.get_by_role("button", name="Load 1 rows").click()


def test_an_upload_through_one_server_is_seen_through_the_other(browser, two_servers):
    a, b = two_servers
    viewer_context, viewer = new_tab(browser)
    editor_context, editor = new_tab(browser)
    try:
        viewer.goto(b + "/partnership?partnership=early-help")
        drawn(viewer)
        assert "93.1%" not in main_text(viewer)  # drawn (and cached) on server b before the upload
        sign_in(editor, a, "eddie")
        ready_to_load(editor, "q1.csv", HEADER + b"EH05,Worcestershire,2026/27 Q1,93.1,931,1000,Q1\n")
        load(editor)
        wait_for_text(editor, "Loaded q1.csv as upload")
        go(viewer, "Overview")
        go(viewer, "Partnerships")
        seen(viewer, "93.1%")
    finally:
        viewer_context.close()
        editor_context.close()


def test_two_uploads_at_once_through_the_two_servers_are_both_loaded_in_order(browser, two_servers, shared_db):
    a, b = two_servers
    first_context, first = new_tab(browser)
    second_context, second = new_tab(browser)
    try:
        sign_in(first, a, "eddie")
        sign_in(second, b, "erin")
        ready_to_load(first, "at-once-a.csv", HEADER + b"EH02,Worcestershire,2026/27 Q1,81.5,,,\n")
        ready_to_load(second, "at-once-b.csv", HEADER + b"EH01,Bromsgrove,2026/27 Q1,77.7,,,\n")
        load(first)
        load(second)
        outcomes = []
        for tab, name in ((first, "at-once-a.csv"), (second, "at-once-b.csv")):
            tab.wait_for_function(f"() => document.body.innerText.includes('Loaded {name} as upload') || "
                                  "document.body.innerText.includes('the store is busy: another')", polling=100)
            outcomes.append("loaded" if f"Loaded {name} as upload" in main_text(tab) else "busy")
    finally:
        first_context.close()
        second_context.close()
    conn = store.connect(shared_db)
    try:
        batches = conn.execute("SELECT batch_id, file_name, user_name, rows_added, status FROM batches "
                               "WHERE file_name LIKE 'at-once-%' ORDER BY batch_id").fetchall()
        figures = dict(conn.execute("SELECT indicator_id, value FROM observations WHERE period = '2026/27 Q1' "
                                    "AND superseded_at IS NULL AND indicator_id IN ('EH01', 'EH02') AND "
                                    "area_code IN ('E10000034', 'E07000234')").fetchall())
    finally:
        conn.close()
        store.close_process_connections()
    # Both loaded, one after the other (or one refused as busy, saying so): never half of either.
    assert outcomes.count("loaded") == len(batches) >= 1
    assert all(r[3] == 1 and r[4] == "loaded" for r in batches)
    if len(batches) == 2:
        assert batches[1][0] == batches[0][0] + 1
        assert figures == {"EH02": 81.5, "EH01": 77.7}


# --- deploy/replicas.sh: three replicas behind HAProxy ---------------------------------------------------

@pytest.fixture(scope="module")
def balancer():
    """deploy/replicas.sh on free loopback ports: yields (balancer URL, store address); stops it after."""
    if not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()) and os.geteuid() != 0:
        pytest.skip("HAProxy is not installed (tests/run.sh installs Debian's haproxy when run as root)")
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and os.geteuid() != 0:
        pytest.skip("PostgreSQL is not installed (tests/run.sh installs Debian's postgresql when run as root)")
    state = Path(tempfile.mkdtemp(prefix="cypp-replicas-"))
    state.chmod(0o755)  # PostgreSQL's own user must reach its folder inside
    ports = [devserver.free_port() for _ in range(4)]
    env = {**os.environ, "CYPP_REPLICAS_DIR": str(state), "CYPP_LB_PORT": str(ports[0]),
           "CYPP_APP_PORTS": " ".join(map(str, ports[1:])), "PYTHON": os.environ.get("PYTHON", "python")}
    env.pop("CYPP_DB", None)
    proc = subprocess.Popen(["bash", str(ROOT / "deploy" / "replicas.sh")], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if select.select([proc.stdout], [], [], 1)[0]:
                line = proc.stdout.readline()
                if not line and proc.poll() is not None:
                    break
                lines.append(line)
                if line.startswith("ready: "):
                    break
        if not lines or not lines[-1].startswith("ready: "):
            raise RuntimeError("deploy/replicas.sh did not start:\n" + "".join(lines))
        address = (state / "address").read_text().strip()
        _accounts(address)
        yield f"http://127.0.0.1:{ports[0]}", address
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        shutil.rmtree(state, ignore_errors=True)


def _replica(context) -> str:
    return next((c["value"] for c in context.cookies() if c["name"] == "CYPP_REPLICA"), "")


def test_three_replicas_behind_haproxy_an_upload_is_seen_from_another_browser(browser, balancer, screenshots):
    url, _address = balancer
    viewers = [new_tab(browser) for _ in range(3)]
    editor_context, editor = new_tab(browser)
    try:
        for _context, viewer in viewers:  # drawn (and cached) before the upload, on whichever replica
            viewer.goto(url + "/partnership?partnership=early-help")
            drawn(viewer)
            assert "64.2%" not in main_text(viewer)
        sign_in(editor, url, "eddie")
        ready_to_load(editor, "through-the-balancer.csv",
                      HEADER + b"EH05,Worcestershire,2026/27 Q1,64.2,642,1000,through HAProxy\n")
        load(editor)
        wait_for_text(editor, "Loaded through-the-balancer.csv as upload")
        replicas = {_replica(editor_context)}
        for context, viewer in viewers:
            go(viewer, "Overview")
            go(viewer, "Partnerships")
            seen(viewer, "64.2%")
            replicas.add(_replica(context))
        viewers[0][1].screenshot(path=str(screenshots / "replicas_after_upload.png"), full_page=True)
        assert len(replicas - {""}) >= 2, f"the balancer spread the sessions over replicas: {replicas}"
    finally:
        editor_context.close()
        for context, _ in viewers:
            context.close()
