"""A throw-away PostgreSQL for the tests: initdb and pg_ctl on a Unix socket in a temporary folder,
no TCP port. PostgreSQL refuses to run as root, so as root the server runs as the unprivileged
user `nobody` (runuser); as anyone else, as that user. Only local socket connections are allowed
(trust), from the socket folder that only this run knows about."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _newest_bin() -> Path:
    """Debian's newest installed PostgreSQL (15 or later), or CYPP_PG_BIN."""
    if os.environ.get("CYPP_PG_BIN"):
        return Path(os.environ["CYPP_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
                   if p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _newest_bin()
SUPERUSER = "cypp"


class Unavailable(Exception):
    """PostgreSQL's programs are not on this machine (the reason is the message)."""


@dataclass
class Server:
    folder: Path
    run_as: list[str]

    @property
    def socket_dir(self) -> str:
        return str(self.folder)

    def address(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.address("postgres"), autocommit=True) as c:
            c.execute(sql)

    def create_database(self, name: str, template: str | None = None) -> str:
        self.admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.address(name)

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def _unprivileged() -> tuple[list[str], int | None, int | None]:
    if os.geteuid() != 0:
        return [], None, None
    import pwd

    who = pwd.getpwnam("nobody")
    return ["runuser", "-u", "nobody", "--"], who.pw_uid, who.pw_gid


def start() -> Server:
    """Start a new cluster; raise Unavailable when PostgreSQL is not installed."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (PG_BIN / tool).exists():
            raise Unavailable(f"PostgreSQL is not installed ({PG_BIN / tool} is missing; "
                              "tests/run.sh installs Debian's postgresql package when run as root)")
    run_as, uid, gid = _unprivileged()
    folder = Path(tempfile.mkdtemp(prefix="cypp-pg-"))
    if uid is not None:
        os.chown(folder, uid, gid)
    folder.chmod(0o700)
    data = folder / "data"
    subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], check=True, capture_output=True, timeout=180)
    options = (f"-k {folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB")
    done = subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                           str(folder / "server.log"), "-w", "-t", "120", "start"], capture_output=True, text=True,
                          timeout=180)
    if done.returncode != 0:
        log = (folder / "server.log").read_text(errors="replace") if (folder / "server.log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}\n{log}")
    return Server(folder, run_as)
