#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, combined broker+controller) without Docker.
#
#   deploy/kafka/kafka.sh up      resolve jars (once), format storage (once), start, wait until it answers
#   deploy/kafka/kafka.sh down    stop the broker this script started (by its pid file)
#   deploy/kafka/kafka.sh status  print whether it runs
#
# Settings (environment): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1),
# KAFKA_DATA_DIR (<repo>/.local/kafka-<port>), CXPULSE_CACHE (~/.cache/cxpulse), KAFKA_HEAP (512m),
# KAFKA_TXN_VERIFICATION (true: the broker checks each transactional write with the coordinator; README.md says
# what it costs).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
port=${KAFKA_PORT:-9092}
cport=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
cache=${CXPULSE_CACHE:-$HOME/.cache/cxpulse}
libs="$cache/kafka-$version/libs"
data=${KAFKA_DATA_DIR:-$repo/.local/kafka-$port}
pidfile="$data/kafka.pid"
log="$data/server.log"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

resolve() {
  [ -f "$libs/.complete" ] && return
  echo "kafka: resolving org.apache.kafka:kafka_2.13:$version from Maven Central into $libs"
  rm -rf "$libs" && mkdir -p "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs"
  touch "$libs/.complete"
}

configure() {
  mkdir -p "$data/logs"
  cat >"$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data/logs
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
transaction.partition.verification.enable=${KAFKA_TXN_VERIFICATION:-true}
PROPS
  cat >"$data/log4j2.properties" <<PROPS
appender.file.type=File
appender.file.name=file
appender.file.fileName=$log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.apache.name=org.apache.kafka
logger.apache.level=WARN
PROPS
}

java_cmd() {
  java -Xmx"${KAFKA_HEAP:-512m}" -Xms128m -XX:+UseG1GC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$data/log4j2.properties" -cp "$libs/*" "$@"
}

up() {
  if running; then echo "kafka: already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return; fi
  resolve
  configure
  if [ ! -f "$data/logs/meta.properties" ]; then
    java_cmd kafka.tools.StorageTool format --ignore-formatted -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
      -c "$data/server.properties" >"$data/format.log" 2>&1 || { cat "$data/format.log"; exit 1; }
  fi
  : >"$log"
  local started; started=$(date +%s.%N)
  # C1 only and the serial collector: this broker shares a small box with the whole pipeline, and C2's compiling
  # and G1's threads cost more CPU over a demo, a benchmark or a test run than they give back (2-core box, broker
  # CPU per utterance at 100/s: 13.8 -> 7.0 ms; the numbers and command are in README.md). KAFKA_JVM_FLAGS changes it.
  # shellcheck disable=SC2086
  nohup java -Xmx"${KAFKA_HEAP:-512m}" -Xms128m ${KAFKA_JVM_FLAGS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC} \
    -Dlog4j2.configurationFile="$data/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$data/server.properties" >"$data/stdout.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 600); do
    if ! running; then echo "kafka: exited during start; see $data/stdout.log and $log" >&2; tail -20 "$data/stdout.log" >&2; exit 1; fi
    if grep -q "Kafka Server started" "$log" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      printf 'kafka: %s up on 127.0.0.1:%s in %.1fs (pid %s, log %s)\n' "$version" "$port" \
        "$(echo "$(date +%s.%N) - $started" | bc)" "$(cat "$pidfile")" "$log"
      return
    fi
    sleep 0.2
  done
  echo "kafka: not answering after 120s; see $log" >&2; exit 1
}

down() {
  if ! running; then echo "kafka: not running on port $port"; rm -f "$pidfile"; return; fi
  local pid; pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "kafka: stopped (pid $pid)"; return; }; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true; rm -f "$pidfile"; echo "kafka: killed (pid $pid) after 30s"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if running; then echo "kafka: running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; else echo "kafka: not running"; exit 1; fi ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
