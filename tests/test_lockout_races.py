"""The sign-in lockout holds when guesses arrive at once: from 24 threads sharing the app's
connection and from 20 separate processes queueing for the store file. After the configured
number of failures the account is locked, every later guess is refused as locked without being
counted, and the right password is refused until the lock ends."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from cypp_dash import auth, store
from cypp_dash.config import ROOT, Settings

# Cheap hashes keep 24 concurrent checks within the machine's memory; the logic under test is the
# count and the lock, which do not depend on the hash's cost.
CHEAP = dict(time_cost=1, memory_cost=1024, parallelism=1, hash_len=32, salt_len=16)
RIGHT = "the right passphrase"
SETTINGS = Settings(max_failed_sign_ins=5, lockout_minutes=15)


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(**CHEAP))
    path = tmp_path / "race.duckdb"
    conn = store.connect(path)
    auth.add_user(conn, "ada", "admin", RIGHT, actor="test")
    yield path, conn
    conn.close()


def _failures(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT detail FROM audit WHERE action = 'sign-in failed' "
                                       "ORDER BY logged_at").fetchall()]


def _assert_locked_after(conn, guesses: int) -> None:
    details = _failures(conn)
    assert len(details) == guesses
    counted = [d for d in details if d.startswith("wrong password")]
    assert len(counted) == SETTINGS.max_failed_sign_ins, details
    assert sum("locked for 15 minutes" in d for d in details) == 1, details
    assert sum(d.startswith("account locked until") for d in details) == guesses - SETTINGS.max_failed_sign_ins
    locked_until = conn.execute("SELECT locked_until FROM users WHERE name = 'ada'").fetchone()[0]
    assert locked_until is not None and locked_until > store.now()
    # The right password is refused during the lock, and that refusal does not lift it.
    assert auth.sign_in(conn, "ada", RIGHT, settings=SETTINGS, sleep=lambda s: None) is None
    assert conn.execute("SELECT locked_until FROM users WHERE name = 'ada'").fetchone()[0] == locked_until
    # ... and accepted once the lock has ended.
    later = locked_until + timedelta(seconds=1)
    assert auth.sign_in(conn, "ada", RIGHT, settings=SETTINGS, clock=lambda: later, sleep=lambda s: None)


def test_concurrent_guesses_from_threads_lock_the_account(fresh):
    _, conn = fresh
    guesses = 24
    start = threading.Barrier(guesses)
    errors: list[BaseException] = []

    def guess(i: int) -> None:
        try:
            start.wait()
            assert auth.sign_in(conn, "ada", f"wrong guess {i}", settings=SETTINGS, sleep=lambda s: None) is None
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guesses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    _assert_locked_after(conn, guesses)


def test_right_password_sent_among_concurrent_guesses_never_passes_a_lock(fresh):
    """Wrong and right guesses interleaved from threads: a right guess may only succeed while the
    account is not locked; once a lock has been set, no right guess that started later succeeds."""
    _, conn = fresh
    outcomes: list[tuple[str, bool]] = []
    start = threading.Barrier(30)

    def attempt(i: int) -> None:
        start.wait()
        password = RIGHT if i % 3 == 0 else f"wrong {i}"
        ok = auth.sign_in(conn, "ada", password, settings=SETTINGS, sleep=lambda s: None) is not None
        outcomes.append((password, ok))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(outcomes) == 30
    assert not any(ok for password, ok in outcomes if password != RIGHT)
    # Replay the audit in commit order: no sign-in is recorded while a lock is in force.
    rows = conn.execute("SELECT action, detail FROM audit WHERE action LIKE 'sign-in%' ORDER BY rowid").fetchall()
    locked = False
    for action, detail in rows:
        if action == "sign-in":
            assert not locked
        elif "locked for" in detail:
            locked = True


def test_concurrent_guesses_from_separate_processes_lock_the_account(fresh):
    path, conn = fresh
    conn.close()
    script = textwrap.dedent(f"""
        import sys
        from argon2 import PasswordHasher
        from cypp_dash import auth, store
        from cypp_dash.config import Settings
        auth.HASHER = PasswordHasher(**{CHEAP!r})
        sys.stdin.read()  # the start signal: every process is loaded before any guesses
        c = store.connect({str(path)!r}, wait_seconds=120)
        try:
            r = auth.sign_in(c, "ada", "wrong " + sys.argv[1], settings=Settings(max_failed_sign_ins=5,
                             lockout_minutes=15), sleep=lambda s: None)
        finally:
            c.close()
        sys.exit(0 if r is None else 3)
    """)
    guesses = 20
    procs = [subprocess.Popen([sys.executable, "-c", script, str(i)], cwd=ROOT, stdin=subprocess.PIPE,
                              stderr=subprocess.PIPE) for i in range(guesses)]
    import time
    time.sleep(1.0)
    for p in procs:
        p.stdin.close()
    for p in procs:
        assert p.wait(300) == 0, p.stderr.read().decode()
    conn = store.connect(path)
    try:
        _assert_locked_after(conn, guesses)
    finally:
        conn.close()
