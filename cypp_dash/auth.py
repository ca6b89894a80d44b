"""Sign-in accounts and roles: argon2id password hashes in the store, sign-in with lockout, and the
guarded write paths that check the role at the point of action. No Streamlit here: the command line
and the tests use it as it is; the signed-in web session is cypp_dash/web/session.py."""
from __future__ import annotations

import getpass
import logging
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cypp_dash import ingest, loading, store, store_accounts
from cypp_dash.config import Settings

log = logging.getLogger(__name__)

# Each role holds the rights of those before it. A lead (plan-wide: any partnership's lead or the
# board's chair) signs off commentary and releases a quarter's figures; see cypp_dash/commentary.py.
ROLES = ("viewer", "editor", "lead", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}
ROLE_WORDS = {"viewer": "reads the dashboard", "editor": "reads, uploads figures and writes commentary",
              "lead": "also approves or returns commentary and signs off a quarter for release",
              "admin": "uploads, manages accounts, rolls back and restores"}

# argon2id with the RFC 9106 "second recommended" parameters (argon2-cffi's defaults, written
# out so that SECURITY.md and the code cannot drift apart): 3 passes over 64 MiB, 4 lanes.
HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16)
MIN_PASSWORD = 10
# A long "password" would make every hash slow; no real passphrase is this long.
MAX_PASSWORD = 256
# Each failed sign-in costs the person (or the script) this long before the answer comes back.
FAILURE_DELAY_SECONDS = 1.0
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

# One answer for an unknown name, a wrong password and a locked account, so that the answer
# does not tell a stranger which names exist.
SIGN_IN_FAILED = ("Those details did not sign you in. Check the name and password; after "
                  "several failed tries an account is locked for a while.")

NOBODY = "(not signed in)"
# What the audit log records for a name that is not an account: people sometimes type their
# password into the name box, so text that matched no account is never written down.
UNKNOWN_NAME = "(unknown name)"


class PermissionDenied(Exception):
    """The signed-in person (or nobody) may not do this; the message says why in plain words."""


class AccountError(ValueError):
    """An account change that cannot be made (the message says what to do)."""


@dataclass(frozen=True)
class Account:
    """Who is signed in and with which role."""

    name: str
    role: str

    def can(self, role: str) -> bool:
        return _RANK.get(self.role, -1) >= _RANK[role]


def has_role(account: Account | None, role: str) -> bool:
    """True when someone is signed in with at least this role (for what a page offers)."""
    return account is not None and account.can(role)


def require(account: Account | None, role: str, action: str) -> Account:
    """Refuse with PermissionDenied unless the account has at least `role`; `action` reads
    like "upload figures"."""
    if role not in _RANK:
        raise ValueError(f"unknown role {role!r}")
    if account is None:
        raise PermissionDenied(f"Sign in to {action}: it needs the {role} role.")
    if not account.can(role):
        raise PermissionDenied(f"To {action} you need the {role} role; {account.name} is signed in as "
                               f"{_article(account.role)} {account.role}.")
    return account


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


# --- accounts in the store ------------------------------------------------------------------

def normalise_name(name: str) -> str:
    """Account names are compared without case or surrounding spaces ("Alice " is "alice")."""
    return (name or "").strip().lower()


def _check_name(name: str) -> str:
    name = normalise_name(name)
    if not NAME_PATTERN.match(name):
        raise AccountError("an account name is 1 to 64 letters, digits, dots, dashes, underscores or @ "
                           f"(an email address works), starting with a letter or digit; {name!r} is not")
    return name


def _check_role(role: str) -> str:
    if role not in _RANK:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def check_password(password: str, name: str = "") -> None:
    """Refuse a password that is too short, too long, or the account name itself."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"a password must be at least {MIN_PASSWORD} characters (a few words make a good one)")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password must be at most {MAX_PASSWORD} characters")
    if name and password.strip().lower() == normalise_name(name):
        raise AccountError("a password must not be the account name")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


# The hash of a random secret that was thrown away, with HASHER's parameters: checking a password
# for an unknown name against it costs the same work as for a real account, and nothing matches it.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c5nechXYCuQzLlniOBFAng$exShzsXgr0vOUjmq7yTRytl2KL7iOBkjoe64gGD7MEA"


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def find_account(conn: duckdb.DuckDBPyConnection, name: str) -> Account | None:
    """The account of this name as the store holds it now (None if there is none)."""
    held = store_accounts.find_account(conn, normalise_name(name))
    return Account(held.name, held.role) if held else None


def add_user(conn: duckdb.DuckDBPyConnection, name: str, role: str, password: str, *, actor: str) -> Account:
    """Create an account (no role check: callers with machine access, or `web_add_user`)."""
    name = _check_name(name)
    role = _check_role(role)
    check_password(password, name)
    password_hash = hash_password(password)
    with store.write_transaction(conn) as cur:
        if store_accounts.held_account(cur, name) is not None:
            raise AccountError(f"there is already an account called {name}")
        store_accounts.save_new_account(cur, name, role, password_hash, store.now(), actor)
    return Account(name, role)


def remove_user(conn: duckdb.DuckDBPyConnection, name: str, *, actor: str) -> None:
    """Delete an account (no role check: callers with machine access, or `web_remove_user`)."""
    name = normalise_name(name)
    with store.write_transaction(conn) as cur:
        held = store_accounts.held_account(cur, name)
        if held is None:
            raise AccountError(f"there is no account called {name or '(blank)'}")
        store_accounts.delete_account(cur, name, held.role, store.now(), actor)


def set_password(conn: duckdb.DuckDBPyConnection, name: str, password: str, *, actor: str) -> None:
    """Give an account a new password and lift any lockout (no role check: machine access, or
    `web_set_password`)."""
    name = normalise_name(name)
    check_password(password, name)
    password_hash = hash_password(password)
    with store.write_transaction(conn) as cur:
        if store_accounts.held_account(cur, name) is None:
            raise AccountError(f"there is no account called {name or '(blank)'}")
        store_accounts.save_password(cur, name, password_hash, store.now(), actor)


def list_users(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every account with its role and sign-in state (never the password hash)."""
    return store_accounts.accounts(conn)


# --- signing in --------------------------------------------------------------------------------

def sign_in(conn: duckdb.DuckDBPyConnection, name: str, password: str, *, settings: Settings | None = None,
            clock: Callable[[], datetime] = store.now, sleep: Callable[[float], None] = time.sleep) -> Account | None:
    """The account when the name and password match and it is not locked; otherwise None, after
    the same work and a deliberate delay whatever the reason. Failures count per account and
    lock it for `lockout_minutes` after `max_failed_sign_ins` in a row."""
    settings = settings or Settings()
    name = normalise_name(name)
    password = password if isinstance(password, str) else ""
    at = clock()
    if not name or len(password) > MAX_PASSWORD:
        _verify(None, "")
        return _failed(conn, at, UNKNOWN_NAME, "no name or an over-long password", sleep)
    seen = store_accounts.find_account(conn, name)
    # Verify before looking at the lock, and against a dummy hash when there is no account:
    # every path does one argon2 verification, so timing does not tell the cases apart.
    matches = _verify(seen.password_hash if seen else None, password)
    if seen is None:
        return _failed(conn, at, UNKNOWN_NAME, "unknown account", sleep)
    new_hash = (hash_password(password) if matches and HASHER.check_needs_rehash(seen.password_hash)
                else seen.password_hash)
    # The decision is made inside one write transaction on the account's row as it is *now*: the lock
    # and the count read here cannot change before this write commits (writers in this process queue on
    # the store's write lock, and another process cannot hold the store file at the same time), so
    # concurrent guesses are each counted, and a lock in force is never cleared or passed.
    with store.write_transaction(conn) as wcur:
        held = store_accounts.held_account(wcur, name)
        if held is None:  # removed while the password was checked
            outcome = ("failed", "unknown account")
        elif held.locked_until is not None and held.locked_until > at:
            outcome = ("failed", f"account locked until {held.locked_until:%Y-%m-%d %H:%M} UTC")
        elif not matches or held.password_hash != seen.password_hash:  # wrong, or replaced meanwhile
            failures = held.failed_count + 1
            lock = failures >= settings.max_failed_sign_ins
            # Locking starts a fresh count, so after the lock the account gets the full number of tries
            # again. A lock is only ever set here, never cleared: a failure after a lock has ended leaves
            # the old (past) time in place, which is no longer in force.
            store_accounts.record_failed_sign_in(
                wcur, name, failures, at + timedelta(minutes=settings.lockout_minutes) if lock else None)
            outcome = ("failed", f"wrong password ({failures} in a row)"
                       + (f"; locked for {settings.lockout_minutes} minutes" if lock else ""))
        else:
            store_accounts.record_sign_in(wcur, name, seen.role, new_hash, at)
            outcome = ("signed in", "")
        if outcome[0] == "failed":
            store_accounts.log_failed_sign_in(wcur, at, name if held is not None else UNKNOWN_NAME, outcome[1])
    if outcome[0] == "failed":
        log.info("failed sign-in for %s (%s)", name, outcome[1])
        sleep(FAILURE_DELAY_SECONDS)
        return None
    return Account(seen.name, seen.role)


def _failed(conn: duckdb.DuckDBPyConnection, at: datetime, name: str, detail: str,
            sleep: Callable[[float], None]) -> None:
    with store.write_transaction(conn) as cur:
        store_accounts.log_failed_sign_in(cur, at, name, detail)
    log.info("failed sign-in for %s (%s)", name, detail)
    sleep(FAILURE_DELAY_SECONDS)
    return None


# --- the guarded write paths: each checks the role in the store when it acts -------------------

def authorise(conn: duckdb.DuckDBPyConnection, account: Account | None, role: str, action: str) -> Account:
    """The account as the store holds it now, when that has at least `role`; else PermissionDenied.
    Every write path calls this as it acts: a removed or demoted account loses its rights at once."""
    if account is not None:
        held = find_account(conn, account.name)
        if held is None:
            raise PermissionDenied(f"To {action} you must be signed in with an account that exists; "
                                   f"{account.name} has been removed. Sign in again.")
        account = held
    try:
        return require(account, role, action)
    except PermissionDenied:
        log.warning("refused: %s tried to %s", account.name if account else NOBODY, action)
        raise


def upload(conn: duckdb.DuckDBPyConnection, account: Account | None, validated: ingest.Validated,
           progress: Callable[[float, str], None] | None = None) -> store.LoadResult:
    """Load a file that passed validation as one batch recorded under the account's name (editor or admin)."""
    account = authorise(conn, account, "editor", "upload figures")
    if not validated.ok:
        raise ValueError("this file did not pass the checks, so nothing can be loaded from it")
    return loading.load_validated(conn, validated, account.name, progress=progress)


def rollback(conn: duckdb.DuckDBPyConnection, account: Account | None, batch_id: int) -> None:
    """Undo one upload exactly (admin)."""
    account = authorise(conn, account, "admin", "roll back an upload")
    store.rollback(conn, int(batch_id), account.name)


# A restore from the web keeps today's accounts and audit trail: an uploaded file must not
# bring back removed accounts or old passwords, nor erase the record of who did what.
KEPT_ON_WEB_RESTORE = ("users", "audit")


def restore(conn: duckdb.DuckDBPyConnection, account: Account | None, path: str | Path) -> None:
    """Replace the figures with a backup's (admin); accounts and the audit log stay as they are."""
    account = authorise(conn, account, "admin", "restore a backup")
    store.restore(conn, path, account.name, keep=KEPT_ON_WEB_RESTORE)


def restore_uploaded(conn: duckdb.DuckDBPyConnection, account: Account | None, data: bytes, file_name: str) -> None:
    """`restore` from the bytes of an uploaded backup file (admin)."""
    authorise(conn, account, "admin", "restore a backup")
    # The audit log names the file; only a tame version of the uploaded name reaches the disk.
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(file_name or "backup.duckdb").name)[:80] or "backup.duckdb"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / safe
        path.write_bytes(bytes(data))
        restore(conn, account, path)


def backup(conn: duckdb.DuckDBPyConnection, account: Account | None) -> bytes:
    """A whole-store copy as bytes, for download (admin: it holds the password hashes)."""
    account = authorise(conn, account, "admin", "download a backup")
    with tempfile.TemporaryDirectory() as folder:
        path = store.backup(conn, Path(folder) / "cypp-backup.zip")
        data = path.read_bytes()
    store.audit(conn, account.name, "backup", f"{len(data):,} bytes downloaded")
    return data


def web_add_user(conn: duckdb.DuckDBPyConnection, account: Account | None, name: str, role: str,
                 password: str) -> Account:
    """Create an account from the admin page (admin)."""
    account = authorise(conn, account, "admin", "add an account")
    return add_user(conn, name, role, password, actor=account.name)


def web_remove_user(conn: duckdb.DuckDBPyConnection, account: Account | None, name: str) -> None:
    """Remove an account from the admin page (admin; not your own, so that an admin always remains)."""
    account = authorise(conn, account, "admin", "remove an account")
    if normalise_name(name) == account.name:
        raise AccountError("you cannot remove the account you are signed in with; another admin can, "
                           "or an operator on the server with `python -m cypp_dash users remove`")
    remove_user(conn, name, actor=account.name)


def web_set_password(conn: duckdb.DuckDBPyConnection, account: Account | None, name: str, password: str) -> None:
    """Set an account's password and lift its lockout from the admin page (admin)."""
    account = authorise(conn, account, "admin", "set a password")
    set_password(conn, name, password, actor=account.name)


# --- the command line: `python -m cypp_dash users ...` (machine access, so no role check) -------

def _operator() -> str:
    try:
        who = getpass.getuser()
    except Exception:
        who = "unknown"
    return f"{who} (command line)"


def read_password(prompt: str = "Password: ", confirm: bool = True) -> str:
    """From a prompt when a person is at the terminal, else one line of stdin (never argv)."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("Again: ") != first:
            raise AccountError("the two passwords were not the same")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def users_command(conn: duckdb.DuckDBPyConnection, args) -> int:
    """`users add NAME --role ROLE | list | remove NAME | passwd NAME`: 0 done, 1 refused with a message."""
    actor = _operator()
    try:
        if args.users_command == "add":
            account = add_user(conn, args.name, args.role, read_password(), actor=actor)
            print(f"added {account.name} ({account.role})")
        elif args.users_command == "list":
            df = list_users(conn)
            if df.empty:
                print("(no accounts)")
            else:
                for col in ("created_at", "last_sign_in", "locked_until"):
                    df[col] = df[col].map(lambda t: "-" if pd.isna(t) else f"{t:%Y-%m-%d %H:%M}")
                with pd.option_context("display.max_rows", None, "display.width", 200):
                    print(df.to_string(index=False))
        elif args.users_command == "remove":
            remove_user(conn, args.name, actor=actor)
            print(f"removed {normalise_name(args.name)}")
        elif args.users_command == "passwd":
            set_password(conn, args.name, read_password(), actor=actor)
            print(f"password set for {normalise_name(args.name)}")
        else:
            print(f"error: unknown users command {args.users_command!r}", file=sys.stderr)
            return 1
    except AccountError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
