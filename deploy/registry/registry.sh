#!/usr/bin/env bash
# Local Apicurio Registry (in-memory, Confluent-compatible API at /apis/ccompat/v7) without Docker.
#
#   deploy/registry/registry.sh up      resolve the app from Maven Central (once), start, wait until it answers
#   deploy/registry/registry.sh down    stop the registry this script started (by its pid file)
#   deploy/registry/registry.sh status  print whether it runs
#   deploy/registry/registry.sh url     print the URL services take as SCHEMA_REGISTRY_URL
#
# Settings (environment): REGISTRY_PORT (8081), REGISTRY_DATA_DIR (<repo>/.local/registry-<port>),
# CXPULSE_CACHE (~/.cache/cxpulse), REGISTRY_HEAP (256m). Storage is in memory: a restart forgets every schema
# (producers register again on first use, or `cxpulse schemas register` does).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's:.*<apicurio.version>\(.*\)</apicurio.version>.*:\1:p' "$here/pom.xml")
port=${REGISTRY_PORT:-8081}
cache=${CXPULSE_CACHE:-$HOME/.cache/cxpulse}
app="$cache/apicurio-registry-$version"
data=${REGISTRY_DATA_DIR:-$repo/.local/registry-$port}
pidfile="$data/registry.pid"
log="$data/registry.log"
url="http://127.0.0.1:$port/apis/ccompat/v7"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

resolve() {
  [ -f "$app/.complete" ] && return
  echo "registry: resolving io.apicurio:apicurio-registry-app:$version (all, tar.gz) from Maven Central into $app"
  rm -rf "$app" && mkdir -p "$app/download"
  local artifact="io.apicurio:apicurio-registry-app:$version:tar.gz:all"
  # Offline first: a warm ~/.m2 needs no network.
  mvn -q -B -o -f "$here/pom.xml" dependency:copy -Dartifact="$artifact" -DoutputDirectory="$app/download" >/dev/null 2>&1 ||
    mvn -q -B -f "$here/pom.xml" dependency:copy -Dartifact="$artifact" -DoutputDirectory="$app/download"
  tar -xzf "$app/download/apicurio-registry-app-$version-all.tar.gz" -C "$app"
  rm -rf "$app/download" "$here/target"
  touch "$app/.complete"
}

up() {
  if running; then echo "registry: already running at $url (pid $(cat "$pidfile"))"; return; fi
  resolve
  mkdir -p "$data"
  # 127.0.0.1 only; no telemetry; anonymous reads and writes (put it behind TLS and auth to share it).
  nohup java -Xmx"${REGISTRY_HEAP:-256m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" -Dquarkus.log.level=WARN \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -jar "$app/apicurio-registry-app-$version-runner.jar" >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 240); do
    if curl -fsS -o /dev/null "$url/subjects" 2>/dev/null; then
      echo "registry: up at $url (pid $(cat "$pidfile"), log $log)"
      return
    fi
    if ! running; then echo "registry: exited during start, see $log" >&2; tail -20 "$log" >&2; exit 1; fi
    sleep 0.5
  done
  echo "registry: no answer after 120 s, see $log" >&2
  exit 1
}

down() {
  if ! running; then echo "registry: not running"; rm -f "$pidfile"; return; fi
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$pidfile"
  echo "registry: stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if running; then echo "registry: running at $url (pid $(cat "$pidfile"))"; else echo "registry: not running"; exit 1; fi ;;
  url) echo "$url" ;;
  *) echo "usage: $0 up|down|status|url" >&2; exit 2 ;;
esac
