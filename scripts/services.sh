#!/usr/bin/env bash
# The infrastructure the apps and the integration tests need: Apache Kafka (one KRaft node,
# broker and controller in one JVM) and PostgreSQL.
#
#   bash scripts/services.sh up      reuse what already answers, start what does not, print the env
#   bash scripts/services.sh down    stop only what this script started
#   bash scripts/services.sh status  one line per service; exit status 1 if one is down
#
# Kafka runs from the jars Maven fetches from Maven Central (scripts/kafka/pom.xml): no Docker and
# no Kafka download site needed. PostgreSQL is the server in DATABASE_URL when it answers, else a
# private cluster made with the local initdb/pg_ctl, else Docker Compose when a Docker engine answers.
#
# Environment:
#   DATABASE_URL          default postgres://postgres@127.0.0.1:5432/universal_logout
#   KAFKA_BROKERS         default 127.0.0.1:9092; a broker that answers there is reused
#   ULO_CACHE_DIR         default ~/.cache/universal-logout (Kafka jars, data, logs, pid file)
#   ULO_PG_DIR            data directory of the private PostgreSQL cluster, if one is needed
#   ULO_SERVICES_TIMEOUT  seconds to wait for each service, default 90
set -euo pipefail

readonly KAFKA_VERSION=3.9.2
readonly KAFKA_LOCAL_BROKER=127.0.0.1:9092
readonly KAFKA_LOCAL_CONTROLLER=127.0.0.1:9093

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${ULO_CACHE_DIR:-$HOME/.cache/universal-logout}"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_PID_FILE="$KAFKA_HOME/kafka.pid"
KAFKA_LOG="$KAFKA_HOME/logs/server.log"
KAFKA_STDOUT="$KAFKA_HOME/logs/stdout.log"
KAFKA_BROKERS="${KAFKA_BROKERS:-$KAFKA_LOCAL_BROKER}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/universal_logout}"
TIMEOUT="${ULO_SERVICES_TIMEOUT:-90}"
COMPOSE_MARKER="$CACHE_DIR/compose-services"

say() { printf '%s\n' "$*" >&2; }
die() { say "services: $*"; exit 1; }
now_ms() { date +%s%3N; }

# Readiness checks go through the project's own drivers (pg, kafkajs): no psql or Kafka CLI needed.
check() { node "$ROOT/scripts/wait-services.js" "$@"; }

require_node_modules() {
  command -v node >/dev/null || die "node is not installed"
  [[ -d $ROOT/node_modules/kafkajs && -d $ROOT/node_modules/pg ]] ||
    die "node_modules lacks kafkajs or pg: run npm ci first"
}

# Serialises up and down, so parallel callers (test runners, shells) start one broker, not two.
take_lock() {
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.services.lock"
  flock -w 300 9 || die "another services.sh still holds $CACHE_DIR/.services.lock"
}

# --- Kafka --------------------------------------------------------------------------------------

kafka_answers() { check kafka "$KAFKA_BROKERS" 2>/dev/null; }

# The pid of the broker this script started, if it still runs (a recycled pid is not ours).
kafka_pid() {
  local pid
  [[ -f $KAFKA_PID_FILE ]] || return 1
  pid="$(<"$KAFKA_PID_FILE")"
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  grep -qa 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

ensure_java_and_maven() {
  command -v java >/dev/null && command -v mvn >/dev/null && return 0
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
    say "services: installing a JRE and Maven with apt-get"
    if apt-get update -qq >&2; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven >&2 || true
    fi
  fi
  command -v java >/dev/null && command -v mvn >/dev/null
}

# Jars are fetched once per Kafka version and again only when the pom changes.
kafka_fetch_jars() {
  local libs="$KAFKA_HOME/libs" pom="$ROOT/scripts/kafka/pom.xml" stamp
  stamp="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [[ -f $libs/.complete && "$(<"$libs/.complete")" == "$stamp" ]]; then
    return 0
  fi
  say "services: fetching the Kafka $KAFKA_VERSION jars from Maven Central (first run only)"
  rm -rf "$libs.partial"
  # Maven's output goes to a file: even with -q, Maven 3.8 prints stray colour codes.
  if ! mvn -B -q -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$libs.partial" >"$KAFKA_HOME/logs/maven.log" 2>&1; then
    tail -n 30 "$KAFKA_HOME/logs/maven.log" >&2
    die "Maven could not fetch the Kafka jars; see $KAFKA_HOME/logs/maven.log"
  fi
  rm -rf "$libs"
  mv "$libs.partial" "$libs"
  echo "$stamp" >"$libs/.complete"
  say "services: $(find "$libs" -name '*.jar' | wc -l) jars in $libs"
}

kafka_write_config() {
  # Rewritten on every start so that a change here reaches an existing cache directory.
  cat >"$KAFKA_HOME/server.properties" <<EOF
# Written by scripts/services.sh at each start: change the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_LOCAL_CONTROLLER
listeners=PLAINTEXT://$KAFKA_LOCAL_BROKER,CONTROLLER://$KAFKA_LOCAL_CONTROLLER
advertised.listeners=PLAINTEXT://$KAFKA_LOCAL_BROKER
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_HOME/data
# Topics are created explicitly by the services, with the partition counts the consumers scale to.
auto.create.topics.enable=false
num.partitions=6
# One node: every internal topic has a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Fewer partitions than the default 50 make the first consumer group join seconds faster.
offsets.topic.num.partitions=6
# A group rebalances as soon as its members join, instead of 3 s later (faster tests).
group.initial.rebalance.delay.ms=0
EOF
}

# The JVM command line of the broker and of its storage tool, as the bin/ scripts would build it.
KAFKA_JAVA=(
  java -Xms512m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  "-Dlog4j.configuration=file:$ROOT/scripts/kafka/log4j.properties"
  "-Dkafka.logs.dir=$KAFKA_HOME/logs"
  -cp "$KAFKA_HOME/libs/*"
)
kafka_java() { "${KAFKA_JAVA[@]}" "$@"; }

# Starts the broker in the background; kafka_wait then waits for its metadata.
KAFKA_STARTED_PID=""
kafka_launch() {
  mkdir -p "$KAFKA_HOME/data" "$KAFKA_HOME/logs"
  kafka_fetch_jars
  kafka_write_config
  if [[ ! -f $KAFKA_HOME/data/meta.properties ]]; then
    local cluster_id
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid)"
    # A cluster id starting with '-' would be read as an option.
    while [[ $cluster_id == -* ]]; do cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid)"; done
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_HOME/server.properties" >&2 ||
      die "formatting $KAFKA_HOME/data failed; see $KAFKA_LOG"
  fi
  # setsid: the broker survives the shell (and a Ctrl-C in it); 9>&- keeps the lock out of it.
  # (Without job control setsid does not fork, so $! is the JVM's own pid.)
  nohup setsid "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_HOME/server.properties" \
    >"$KAFKA_STDOUT" 2>&1 </dev/null 9>&- &
  KAFKA_STARTED_PID="$!"
  echo "$KAFKA_STARTED_PID" >"$KAFKA_PID_FILE"
}

kafka_wait() {
  # With the pid, a broker that dies during start-up fails the wait at once, not after the timeout.
  local pid=()
  if [[ -n $KAFKA_STARTED_PID ]]; then pid=(--pid "$KAFKA_STARTED_PID")
  elif kafka_pid >/dev/null; then pid=(--pid "$(kafka_pid)"); fi
  if ! check kafka "$KAFKA_BROKERS" --timeout "$TIMEOUT" --log "$KAFKA_LOG" "${pid[@]}"; then
    if [[ -f $KAFKA_LOG ]]; then
      # The cause is usually one ERROR line followed by a page of orderly shutdown.
      say "--- last errors in $KAFKA_LOG"
      grep -E '^\[[^]]*\] (ERROR|FATAL) ' "$KAFKA_LOG" | tail -n 5 >&2 || say "(none)"
      say "--- last lines of $KAFKA_LOG"
      tail -n 10 "$KAFKA_LOG" >&2
    fi
    if [[ -s $KAFKA_STDOUT ]]; then
      say "--- last lines of $KAFKA_STDOUT"
      tail -n 20 "$KAFKA_STDOUT" >&2
    fi
    die "Kafka is not ready; its log is $KAFKA_LOG"
  fi
}

kafka_stop() {
  local pid
  if ! pid="$(kafka_pid)"; then
    rm -f "$KAFKA_PID_FILE"
    say "kafka: no broker started by this script is running"
    return 0
  fi
  kill -TERM "$pid"
  # A controlled shutdown of one KRaft node takes a few seconds.
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "kafka: pid $pid ignored SIGTERM for 60 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$KAFKA_PID_FILE"
  say "kafka: stopped (pid $pid)"
}

# --- PostgreSQL ---------------------------------------------------------------------------------

PG_HOST="" PG_PORT="" PG_USER=""
read_database_url() {
  local parts
  parts="$(check url-parts "$DATABASE_URL")" || exit 1
  read -r PG_HOST PG_PORT PG_USER _ <<<"$parts"
}

pg_answers() { check postgres "$DATABASE_URL" 2>/dev/null; }

pg_bindir() {
  local dir
  # The newest installed major version first.
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    [[ -x $dir/initdb && -x $dir/pg_ctl ]] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null && command -v pg_ctl >/dev/null && dirname "$(command -v initdb)"
}

# PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user and lives in
# its home, since it cannot reach root's cache directory.
pg_owner_run() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_private_root() {
  if [[ $EUID -eq 0 ]]; then
    getent passwd postgres | cut -d: -f6
  else
    echo "$CACHE_DIR"
  fi
}

pg_private_dir() {
  if [[ -n ${ULO_PG_DIR:-} ]]; then
    echo "$ULO_PG_DIR"
  else
    echo "$(pg_private_root)/universal-logout-pg-$1"
  fi
}

pg_can_start_private() {
  [[ $PG_HOST == 127.0.0.1 || $PG_HOST == localhost ]] || return 1
  pg_bindir >/dev/null || return 1
  [[ $EUID -ne 0 ]] || getent passwd postgres >/dev/null
}

pg_start_private() {
  local bin dir
  bin="$(pg_bindir)"
  dir="$(pg_private_dir "$PG_PORT")"
  if [[ ! -f $dir/PG_VERSION ]]; then
    say "services: creating a private PostgreSQL cluster in $dir"
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [[ $EUID -eq 0 ]]; then chown postgres: "$dir"; fi
    pg_owner_run "$bin/initdb" -D "$dir" -U "$PG_USER" --auth=trust --encoding=UTF8 --no-locale >/dev/null ||
      die "initdb failed for $dir"
    cat >>"$dir/postgresql.conf" <<EOF

# Added by scripts/services.sh: a private cluster for development and tests.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$dir'
# Tests commit often; losing the last transactions of a crashed dev cluster is acceptable.
synchronous_commit = off
EOF
  fi
  if ! pg_owner_run "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    say "services: starting the private PostgreSQL cluster on 127.0.0.1:$PG_PORT"
    pg_owner_run "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t "$TIMEOUT" start >/dev/null 9>&- ||
      die "PostgreSQL did not start; see $dir/server.log"
  fi
}

pg_stop_private() {
  local bin dir stopped=0
  bin="$(pg_bindir)" || { say "postgres: no private cluster to stop"; return 0; }
  for dir in "${ULO_PG_DIR:-}" "$(pg_private_root)"/universal-logout-pg-*; do
    [[ -n $dir && -f $dir/PG_VERSION ]] || continue
    if pg_owner_run "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      pg_owner_run "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
      say "postgres: stopped the private cluster in $dir"
      stopped=1
    fi
  done
  if [[ $stopped -eq 0 ]]; then say "postgres: no private cluster started by this script is running"; fi
}

# --- Docker Compose fallback --------------------------------------------------------------------

docker_engine_answers() {
  command -v docker >/dev/null &&
    timeout 15 docker info >/dev/null 2>&1 &&
    docker compose version >/dev/null 2>&1
}

compose_up() {
  say "services: starting $* with docker compose"
  POSTGRES_PORT="$PG_PORT" docker compose -f "$ROOT/docker-compose.yml" up -d "$@" >&2 9>&- ||
    die "docker compose up -d $* failed"
  printf '%s\n' "$@" >>"$COMPOSE_MARKER"
  sort -u -o "$COMPOSE_MARKER" "$COMPOSE_MARKER"
}

compose_stop() {
  [[ -s $COMPOSE_MARKER ]] || return 0
  local services
  mapfile -t services <"$COMPOSE_MARKER"
  docker compose -f "$ROOT/docker-compose.yml" stop "${services[@]}" >&2 ||
    die "docker compose stop ${services[*]} failed"
  rm -f "$COMPOSE_MARKER"
  say "compose: stopped ${services[*]}"
}

compose_started() { [[ -f $COMPOSE_MARKER ]] && grep -qx "$1" "$COMPOSE_MARKER"; }

# --- Commands -----------------------------------------------------------------------------------

up() {
  local started compose=() kafka_state pg_state elapsed kafka_ready=0 pg_ready=0
  started="$(now_ms)"
  require_node_modules
  take_lock
  read_database_url

  # Kafka first: the JVM boots while PostgreSQL is being dealt with.
  if kafka_answers; then
    kafka_ready=1
    if kafka_pid >/dev/null; then
      kafka_state="reused the broker this script started (pid $(kafka_pid), log $KAFKA_LOG)"
    else
      kafka_state="reused the broker at $KAFKA_BROKERS"
    fi
  elif [[ $KAFKA_BROKERS != "$KAFKA_LOCAL_BROKER" ]]; then
    die "KAFKA_BROKERS=$KAFKA_BROKERS does not answer; unset it to let this script run a broker on $KAFKA_LOCAL_BROKER"
  elif kafka_pid >/dev/null; then
    kafka_state="waited for the broker already starting (pid $(kafka_pid))"
  elif ensure_java_and_maven; then
    kafka_launch
    kafka_state="started Kafka $KAFKA_VERSION (pid $(kafka_pid || echo '?'), log $KAFKA_LOG)"
  elif docker_engine_answers; then
    compose+=(kafka)
    kafka_state="started Kafka with docker compose"
  else
    die "no Kafka: nothing answers on $KAFKA_BROKERS, Java or Maven is missing, and no Docker engine answers"
  fi

  if pg_answers; then
    pg_ready=1
    if [[ -f $(pg_private_dir "$PG_PORT")/postmaster.pid ]]; then
      pg_state="reused the private cluster in $(pg_private_dir "$PG_PORT")"
    else
      pg_state="reused the server at $PG_HOST:$PG_PORT"
    fi
  elif pg_can_start_private; then
    pg_start_private
    pg_state="private cluster in $(pg_private_dir "$PG_PORT")"
  elif docker_engine_answers; then
    compose+=(postgres)
    pg_state="started PostgreSQL with docker compose"
  else
    if [[ $PG_HOST != 127.0.0.1 && $PG_HOST != localhost ]]; then
      die "no PostgreSQL: nothing answers on $PG_HOST:$PG_PORT (not a local address, so no private cluster), and no Docker engine answers"
    fi
    die "no PostgreSQL: nothing answers on $PG_HOST:$PG_PORT, no initdb/pg_ctl under /usr/lib/postgresql/*/bin, and no Docker engine answers"
  fi

  if [[ ${#compose[@]} -gt 0 ]]; then compose_up "${compose[@]}"; fi

  if [[ $pg_ready -eq 0 ]]; then
    check postgres "$DATABASE_URL" --timeout "$TIMEOUT" || die "PostgreSQL is not ready"
  fi
  check ensure-database "$DATABASE_URL" >&2
  if [[ $kafka_ready -eq 0 ]]; then kafka_wait; fi

  elapsed="$(($(now_ms) - started))"
  say "kafka:    $kafka_state"
  say "postgres: $pg_state"
  say "services ready in $((elapsed / 1000)).$(((elapsed % 1000) / 100)) s; use:"
  echo "DATABASE_URL=$DATABASE_URL"
  echo "KAFKA_BROKERS=$KAFKA_BROKERS"
}

down() {
  take_lock
  kafka_stop
  pg_stop_private
  compose_stop
  say "the system PostgreSQL and brokers not started by this script are left running"
}

status() {
  local failed=0 pid owner
  require_node_modules
  read_database_url

  if pid="$(kafka_pid)"; then owner="started by this script, pid $pid, log $KAFKA_LOG"
  elif compose_started kafka; then owner="docker compose"
  else owner="not started by this script"; fi
  if kafka_answers; then
    echo "kafka     up    $KAFKA_BROKERS ($owner)"
  else
    echo "kafka     down  $KAFKA_BROKERS ($owner)"
    failed=1
  fi

  if [[ -f $(pg_private_dir "$PG_PORT")/postmaster.pid ]]; then owner="private cluster in $(pg_private_dir "$PG_PORT")"
  elif compose_started postgres; then owner="docker compose"
  else owner="not started by this script"; fi
  if pg_answers; then
    echo "postgres  up    $PG_HOST:$PG_PORT ($owner)"
  else
    echo "postgres  down  $PG_HOST:$PG_PORT ($owner)"
    failed=1
  fi
  return "$failed"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    say "usage: bash scripts/services.sh up|down|status"
    exit 2
    ;;
esac
