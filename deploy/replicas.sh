#!/usr/bin/env bash
# Many replicas on one PostgreSQL, on this machine and on loopback only (README "Running for many users"):
# a local PostgreSQL (initdb + pg_ctl, on a Unix socket, no TCP port), the store built once (`init-db`),
# three app processes (`streamlit run app.py` on 127.0.0.1) and HAProxy in front of them with sticky
# sessions (a cookie it inserts, so a browser's page loads, websocket and uploads all reach one process)
# and websocket upgrade. Stops everything it started on Ctrl-C or SIGTERM.
#
#   deploy/replicas.sh                # then open http://127.0.0.1:8500
#
# Settings (environment): CYPP_REPLICAS_DIR (state folder; default a new one under /tmp),
# CYPP_LB_PORT (8500), CYPP_APP_PORTS ("8601 8602 8603"). As root it installs Debian's postgresql and
# haproxy if missing and runs PostgreSQL as `nobody` (PostgreSQL refuses to run as root).
# This is a rehearsal of a production layout, not one: see the README for TLS, credentials and backups.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
STATE="${CYPP_REPLICAS_DIR:-$(mktemp -d /tmp/cypp-replicas-XXXXXX)}"
LB_PORT="${CYPP_LB_PORT:-8500}"
read -r -a APP_PORTS <<< "${CYPP_APP_PORTS:-8601 8602 8603}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$STATE"

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]} (install Debian's packages, or run as root to have them installed)" >&2
    exit 1
  fi
fi
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"

pids=()
RUN_AS=()
cleanup() {
  trap - EXIT INT TERM
  echo "== stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -f "$STATE/pg/data/postmaster.pid" ]; then
    "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$STATE/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
trap 'cleanup; exit 0' INT TERM

# --- PostgreSQL: its own user, its socket in a private folder, no TCP ---------------------------------
mkdir -p "$STATE/pg"
if [ "$(id -u)" = "0" ]; then
  RUN_AS=(runuser -u nobody --)
  chown nobody "$STATE/pg"
fi
chmod 700 "$STATE/pg"
if [ ! -f "$STATE/pg/data/PG_VERSION" ]; then
  echo "== initdb in $STATE/pg/data"
  "${RUN_AS[@]}" "$PG_BIN/initdb" -D "$STATE/pg/data" -U cypp --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$STATE/pg/data" -l "$STATE/pg/server.log" -w \
  -o "-k $STATE/pg -c listen_addresses='' -c max_connections=200" start >/dev/null
"${RUN_AS[@]}" "$PG_BIN/psql" -h "$STATE/pg" -U cypp -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='cypp'" \
  | grep -q 1 || "${RUN_AS[@]}" "$PG_BIN/createdb" -h "$STATE/pg" -U cypp cypp
export CYPP_DB="postgresql://cypp@/cypp?host=$STATE/pg"
echo "$CYPP_DB" > "$STATE/address"

echo "== building the store (init-db; safe to repeat)"
"$PYTHON" -m cypp_dash init-db >"$STATE/init-db.log" 2>&1 || { cat "$STATE/init-db.log" >&2; exit 1; }

# --- three app processes on loopback ----------------------------------------------------------------
for port in "${APP_PORTS[@]}"; do
  "$PYTHON" -m streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port "$port" \
    --browser.gatherUsageStats false --server.fileWatcherType none >"$STATE/app-$port.log" 2>&1 &
  pids+=($!)
done
for port in "${APP_PORTS[@]}"; do
  for _ in $(seq 1 180); do
    if "$PYTHON" -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/_stcore/health', timeout=2).read().strip()==b'ok' else 1)" 2>/dev/null; then
      break
    fi
    sleep 0.5
  done
done

# --- HAProxy: sticky by an inserted cookie, websockets upgraded, loopback only -------------------------
{
  cat <<EOF
global
    maxconn 2000
defaults
    mode http
    option http-server-close
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
frontend dashboard
    bind 127.0.0.1:$LB_PORT
    default_backend replicas
backend replicas
    balance roundrobin
    # One cookie names the replica that served the browser first; every later request (page, websocket
    # at /_stcore/stream, file upload) goes back to it. A replica that stops is taken out by the check.
    cookie CYPP_REPLICA insert indirect nocache httponly attr "SameSite=Lax"
    option httpchk GET /_stcore/health
EOF
  i=1
  for port in "${APP_PORTS[@]}"; do
    echo "    server app$i 127.0.0.1:$port check cookie app$i"
    i=$((i + 1))
  done
} > "$STATE/haproxy.cfg"
"$HAPROXY" -c -q -f "$STATE/haproxy.cfg"
"$HAPROXY" -db -f "$STATE/haproxy.cfg" >"$STATE/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  "$PYTHON" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$LB_PORT/_stcore/health', timeout=2)" \
    2>/dev/null && break
  sleep 0.5
done
echo "ready: http://127.0.0.1:$LB_PORT (replicas on ${APP_PORTS[*]}, store $STATE/address, logs in $STATE)"
wait -n "${pids[@]}" || true
echo "a process stopped; see the logs in $STATE" >&2
