"""Operators' commands while the dashboard runs.

An embedded DuckDB store can be open in one process at a time, and the running dashboard keeps it
open. So the process that has the store open also answers the command line: it listens on a Unix
socket beside the store file (`<store>.operator.sock`, mode 0600, so only the account that runs the
dashboard, and root, can connect; the kernel's peer credentials are checked as well). When the
command line finds the store file busy and the socket answers, it sends its arguments there, and
the dashboard's process runs the same command on its own connection, one command at a time, and
sends back the output and the exit code. Nothing is reachable from the network.

The request is the command's arguments, the caller's working folder (relative file names are
resolved against it), the caller's user name (for the audit log) and, for `users add|passwd`, the
password line; the answer is the command's standard output, its standard error and its exit code.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import socket
import struct
import sys
import threading
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

# A Unix socket's path must fit in sockaddr_un (108 bytes on Linux, 104 on macOS).
_MAX_PATH = 100
_MAX_REQUEST = 1 << 20
_served: dict[str, threading.Thread] = {}
_serve_lock = threading.Lock()
# One command at a time: commands swap the process's standard streams while they run.
_command_lock = threading.Lock()


def socket_path(db: str | os.PathLike) -> Path:
    db = Path(db).resolve()
    return db.with_name(db.name + ".operator.sock")


Runner = Callable[[list, str], int]


def serve(db: str | os.PathLike, run: Runner) -> Path | None:
    """Start answering the command line for this store (once per process): `run(argv, cwd)` runs one
    command in this process (the web layer passes `cli.main` on its own connection) and returns the exit
    code. The socket path, or None when it cannot be made (the command line then waits for the store as
    before)."""
    path = socket_path(db)
    key = str(path)
    with _serve_lock:
        if key in _served and _served[key].is_alive():
            return path
        if len(os.fsencode(key)) > _MAX_PATH:
            log.warning("operator channel not started: %s is too long for a socket path", key)
            return None
        try:
            listener = _listen(path)
        except OSError as exc:
            log.warning("operator channel not started at %s: %s", key, exc)
            return None
        thread = threading.Thread(target=_accept_loop, args=(listener, run), daemon=True,
                                  name="cypp-operator-channel")
        thread.start()
        _served[key] = thread
        return path


def _listen(path: Path) -> socket.socket:
    # This process has the store open, and DuckDB lets only one process do that: any socket left at
    # this path is from a process that has gone.
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # created 0600: no moment when others could connect
    try:
        listener.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    listener.listen(8)
    return listener


def _peer_allowed(conn: socket.socket) -> bool:
    if not hasattr(socket, "SO_PEERCRED"):
        return True  # the socket's 0600 mode is then the only check
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid in (os.getuid(), 0)


def _accept_loop(listener: socket.socket, run: Runner) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_handle, args=(conn, run), daemon=True, name="cypp-operator-command").start()


def _handle(conn: socket.socket, run: Runner) -> None:
    with conn:
        try:
            if not _peer_allowed(conn):
                log.warning("operator channel: refused a connection from another user")
                return
            request = json.loads(_read_all(conn))
            answer = run_request(request, run)
        except Exception as exc:  # noqa: BLE001 - the caller gets a plain error, the log the detail
            log.exception("operator channel: command failed")
            answer = {"stdout": "", "stderr": f"error: the dashboard could not run the command ({type(exc).__name__})\n",
                      "code": 1}
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps(answer).encode("utf-8"))
            conn.shutdown(socket.SHUT_WR)


def _read_all(conn: socket.socket) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > _MAX_REQUEST:
            raise ValueError("request too large")
        chunks.append(chunk)


def run_request(request: dict, run: Runner) -> dict:
    """Run one command-line request in this process, capturing what it prints."""
    argv = [str(a) for a in request.get("argv", [])]
    cwd = str(request.get("cwd") or "/")
    user = str(request.get("user") or "")
    stdin = io.StringIO(str(request.get("stdin") or ""))
    out, err = io.StringIO(), io.StringIO()
    with _command_lock:
        saved_stdin, saved_logname = sys.stdin, os.environ.get("LOGNAME")
        sys.stdin = stdin
        if user:
            os.environ["LOGNAME"] = user  # getpass.getuser(): the audit log names the operator who asked
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run(argv, cwd)
        except SystemExit as exit_:  # argparse usage errors
            code = exit_.code if isinstance(exit_.code, int) else 2
        finally:
            sys.stdin = saved_stdin
            if user:
                if saved_logname is None:
                    os.environ.pop("LOGNAME", None)
                else:
                    os.environ["LOGNAME"] = saved_logname
    return {"stdout": out.getvalue(), "stderr": err.getvalue(), "code": int(code or 0)}


def available(db: str | os.PathLike) -> bool:
    return socket_path(db).exists()


def forward(argv: list[str], db: str | os.PathLike, stdin_text: str = "", timeout: float = 600) -> int:
    """Send a command to the process that has the store open; print its output; its exit code.
    Raises OSError when nothing answers (a socket left by a process that has gone)."""
    import getpass

    user = ""
    with contextlib.suppress(Exception):
        user = getpass.getuser()
    request = {"argv": argv, "cwd": os.getcwd(), "user": user, "stdin": stdin_text}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(socket_path(db)))
        conn.sendall(json.dumps(request).encode("utf-8"))
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    answer = json.loads(b"".join(chunks))
    sys.stdout.write(answer.get("stdout", ""))
    sys.stdout.flush()
    sys.stderr.write(answer.get("stderr", ""))
    return int(answer.get("code", 1))
