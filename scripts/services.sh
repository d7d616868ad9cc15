#!/usr/bin/env bash
# The infrastructure the apps and the integration tests need: Apache Kafka (one KRaft node, or a
# cluster of three, each node broker and controller in one JVM) and PostgreSQL.
#
#   bash scripts/services.sh up           reuse what already answers, start what does not, print the env
#   bash scripts/services.sh down         stop only what this script started
#   bash scripts/services.sh status       one line per service (per Kafka node); exit status 1 if one is down
#   bash scripts/services.sh kafka-pid N  the pid of Kafka node N if this script runs it; exit status 1 if not
#
# Kafka runs from the jars Maven fetches from Maven Central (scripts/kafka/pom.xml): no Docker and
# no Kafka download site needed. PostgreSQL is the server in DATABASE_URL when it answers, else a
# private cluster made with the local initdb/pg_ctl, else Docker Compose when a Docker engine answers.
#
# `up` is idempotent: it starts only the Kafka nodes that do not run (after one was killed, `up` starts
# that one again) and waits until every node answers and lists all nodes in its metadata.
#
# Environment:
#   DATABASE_URL          default postgres://postgres@127.0.0.1:5432/universal_logout
#   KAFKA_NODES           1 (default) or 3: one broker, or a three-broker KRaft cluster on loopback
#   ULO_KAFKA_PORT        broker port of node 1, default 9092; node i listens on ULO_KAFKA_PORT+2(i-1)
#                         (clients) and the port after it (controller)
#   KAFKA_BROKERS         default every local node, 127.0.0.1:9092 for one; a broker (or, with
#                         KAFKA_NODES=3, a cluster of three) that answers there is reused
#   ULO_CACHE_DIR         default ~/.cache/universal-logout (Kafka jars, data, logs, pid files)
#   ULO_PG_DIR            data directory of the private PostgreSQL cluster, if one is needed
#   ULO_SERVICES_TIMEOUT  seconds to wait for each service, default 90
set -euo pipefail

readonly KAFKA_VERSION=3.9.2

say() { printf '%s\n' "$*" >&2; }
die() { say "services: $*"; exit 1; }
now_ms() { date +%s%3N; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Normalised (no symlinks resolved), so that a node's pid check matches its command line exactly.
CACHE_DIR="$(realpath -m -s "${ULO_CACHE_DIR:-$HOME/.cache/universal-logout}")"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_NODES="${KAFKA_NODES:-1}"
KAFKA_PORT="${ULO_KAFKA_PORT:-9092}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/universal_logout}"
TIMEOUT="${ULO_SERVICES_TIMEOUT:-90}"
COMPOSE_MARKER="$CACHE_DIR/compose-services"

[[ $KAFKA_NODES == 1 || $KAFKA_NODES == 3 ]] || die "KAFKA_NODES must be 1 or 3 (got '$KAFKA_NODES')"
[[ $KAFKA_PORT =~ ^[1-9][0-9]*$ ]] && ((KAFKA_PORT >= 1024 && KAFKA_PORT + 2 * KAFKA_NODES <= 65535)) ||
  die "ULO_KAFKA_PORT must be a port from 1024 to $((65535 - 2 * KAFKA_NODES)) (got '$KAFKA_PORT')"

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

node_broker_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
node_controller_port() { echo $((KAFKA_PORT + 2 * ($1 - 1) + 1)); }

# A single node keeps the layout of earlier versions of this script (config, data, logs and pid file
# directly in KAFKA_HOME), so an existing cache and the broker running from it carry on. A cluster
# has one directory per node: config, data/, logs/, kafka.pid.
node_dir() {
  if [[ $KAFKA_NODES -eq 1 ]]; then echo "$KAFKA_HOME"; else echo "$KAFKA_HOME/cluster-$KAFKA_NODES/node-$1"; fi
}

KAFKA_LOCAL_BROKERS="$(for ((i = 1; i <= KAFKA_NODES; i++)); do printf '127.0.0.1:%s\n' "$(node_broker_port "$i")"; done | paste -sd,)"
KAFKA_BROKERS="${KAFKA_BROKERS:-$KAFKA_LOCAL_BROKERS}"

# With several nodes a client must see every one of them in the metadata, asked of each node.
kafka_check_nodes() { if [[ $KAFKA_NODES -gt 1 ]]; then echo "--nodes $KAFKA_NODES"; fi; }
# shellcheck disable=SC2046 # the options are words without spaces
kafka_answers() { check kafka "$KAFKA_BROKERS" $(kafka_check_nodes) 2>/dev/null; }

# The pid of the node in this directory if this script started it and it still runs: the process must
# be a broker of that very config file (a recycled pid is not ours).
kafka_pid_of() {
  local dir=$1 pid
  [[ -f $dir/kafka.pid ]] || return 1
  pid="$(<"$dir/kafka.pid")"
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$dir/server.properties" || return 1
  echo "$pid"
}

# A running node must be listening where this run expects it: its config says where it was started.
kafka_require_port() {
  local i=$1 dir
  dir="$(node_dir "$i")"
  grep -qxF "advertised.listeners=PLAINTEXT://127.0.0.1:$(node_broker_port "$i")" "$dir/server.properties" ||
    die "Kafka node $i from $dir runs on another port ($(grep '^advertised.listeners=' "$dir/server.properties")); run 'bash scripts/services.sh down' first, or use another ULO_CACHE_DIR"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A node's ports must be free before it starts; whatever holds them was not started by this script
# from this cache directory (another cache, the single broker when a cluster is wanted, another tool).
kafka_require_free_ports() {
  local i=$1 port dir pid
  for port in "$(node_broker_port "$i")" "$(node_controller_port "$i")"; do
    port_in_use "$port" || continue
    # Name the holder when it is another node of this cache (the single broker when a cluster is wanted).
    while IFS= read -r dir; do
      if pid="$(kafka_pid_of "$dir")" && grep -q "127\.0\.0\.1:$port\b" "$dir/server.properties"; then
        die "127.0.0.1:$port (Kafka node $i) is taken by the Kafka node in $dir (pid $pid); stop it with 'bash scripts/services.sh down' or choose another ULO_KAFKA_PORT"
      fi
    done < <(kafka_all_node_dirs)
    die "127.0.0.1:$port (Kafka node $i) is taken by a process this script did not start from $KAFKA_HOME; stop it (bash scripts/services.sh down, with the ULO_CACHE_DIR it was started with) or choose another ULO_KAFKA_PORT"
  done
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
  mkdir -p "$KAFKA_HOME/logs"
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
  local i=$1 dir voters="" n replicas=1 min_isr=1
  dir="$(node_dir "$i")"
  for ((n = 1; n <= KAFKA_NODES; n++)); do voters+="${voters:+,}$n@127.0.0.1:$(node_controller_port "$n")"; done
  if [[ $KAFKA_NODES -ge 3 ]]; then replicas=3 min_isr=2; fi
  # Rewritten on every start so that a change here reaches an existing cache directory.
  cat >"$dir/server.properties" <<EOF
# Written by scripts/services.sh at each start: change the script, not this file.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(node_broker_port "$i"),CONTROLLER://127.0.0.1:$(node_controller_port "$i")
advertised.listeners=PLAINTEXT://127.0.0.1:$(node_broker_port "$i")
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# Topics are created explicitly by the services, with the partition counts the consumers scale to.
auto.create.topics.enable=false
num.partitions=6
# Every partition on $replicas node(s); with acks=-1 a write waits for $min_isr in-sync replica(s), so a
# cluster of three loses nothing, and keeps accepting writes, when one node dies.
default.replication.factor=$replicas
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$replicas
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
# Fewer partitions than the default 50 make the first consumer group join seconds faster.
offsets.topic.num.partitions=6
# A group rebalances as soon as its members join, instead of 3 s later (faster tests).
group.initial.rebalance.delay.ms=0
EOF
  if [[ $KAFKA_NODES -gt 1 ]]; then
    cat >>"$dir/server.properties" <<EOF
# A node killed without a controlled shutdown is fenced after 5 s instead of 9 s: its partitions get
# new leaders and it leaves their in-sync replicas, so acks=-1 writes go on with the other two.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=5000
EOF
  fi
}

# The JVM command line of a node and of the storage tool, as the bin/ scripts would build it.
# A cluster's three JVMs get a smaller heap each, and only the quick JIT compiler: three JVMs
# starting at once on two cores come up about 4 s sooner (13 s instead of 17 s), which is what a
# fault test restarting its brokers waits for; a cluster here is for fault tests, not throughput.
KAFKA_ARGV=()
kafka_argv() {
  local logs=$1 jvm=(-Xms512m -Xmx1g)
  if [[ $KAFKA_NODES -gt 1 ]]; then jvm=(-Xms256m -Xmx512m -XX:TieredStopAtLevel=1); fi
  KAFKA_ARGV=(
    java "${jvm[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$ROOT/scripts/kafka/log4j.properties"
    "-Dkafka.logs.dir=$logs"
    -cp "$KAFKA_HOME/libs/*"
  )
}
kafka_java() {
  kafka_argv "$KAFKA_HOME/logs"
  "${KAFKA_ARGV[@]}" "$@"
}

kafka_new_cluster_id() {
  local id
  id="$(kafka_java kafka.tools.StorageTool random-uuid)"
  # A cluster id starting with '-' would be read as an option.
  while [[ $id == -* ]]; do id="$(kafka_java kafka.tools.StorageTool random-uuid)"; done
  echo "$id"
}

# One node has a cluster of its own; the nodes of a cluster share one id, kept beside them.
kafka_cluster_id() {
  local file="$KAFKA_HOME/cluster-$KAFKA_NODES/cluster.id"
  if [[ $KAFKA_NODES -eq 1 ]]; then kafka_new_cluster_id; return; fi
  [[ -s $file ]] || kafka_new_cluster_id >"$file"
  cat "$file"
}

# Starts node i in the background; kafka_wait then waits for the cluster's metadata.
kafka_launch() {
  local i=$1 dir cluster_id
  dir="$(node_dir "$i")"
  mkdir -p "$dir/data" "$dir/logs"
  kafka_write_config "$i"
  if [[ ! -f $dir/data/meta.properties ]]; then
    cluster_id="$(kafka_cluster_id)"
    kafka_argv "$dir/logs"
    "${KAFKA_ARGV[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >&2 ||
      die "formatting $dir/data failed; see $dir/logs/server.log"
  fi
  kafka_argv "$dir/logs"
  # setsid: the node survives the shell (and a Ctrl-C in it); 9>&- keeps the lock out of it.
  # (Without job control setsid does not fork, so $! is the JVM's own pid.)
  nohup setsid "${KAFKA_ARGV[@]}" kafka.Kafka "$dir/server.properties" \
    >"$dir/logs/stdout.log" 2>&1 </dev/null 9>&- &
  echo "$!" >"$dir/kafka.pid"
}

kafka_wait() {
  # With the pids, a node that dies during start-up fails the wait at once, not after the timeout.
  local i dir pid pids=() options=() log
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    if pid="$(kafka_pid_of "$(node_dir "$i")")"; then pids+=("$pid"); fi
  done
  if [[ ${#pids[@]} -gt 0 ]]; then options+=(--pid "$(IFS=,; echo "${pids[*]}")"); fi
  if [[ $KAFKA_NODES -gt 1 ]]; then
    options+=(--nodes "$KAFKA_NODES" --log "$KAFKA_HOME/cluster-$KAFKA_NODES/node-*/logs/server.log")
  else
    options+=(--log "$KAFKA_HOME/logs/server.log")
  fi
  check kafka "$KAFKA_BROKERS" --timeout "$TIMEOUT" "${options[@]}" && return 0
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    dir="$(node_dir "$i")"
    log="$dir/logs/server.log"
    if [[ -f $log ]]; then
      # The cause is usually one ERROR line followed by a page of orderly shutdown.
      say "--- last errors in $log"
      grep -E '^\[[^]]*\] (ERROR|FATAL) ' "$log" | tail -n 5 >&2 || say "(none)"
      say "--- last lines of $log"
      tail -n 10 "$log" >&2
    fi
    if [[ -s $dir/logs/stdout.log ]]; then
      say "--- last lines of $dir/logs/stdout.log"
      tail -n 20 "$dir/logs/stdout.log" >&2
    fi
  done
  die "Kafka is not ready; see the logs above"
}

# Every node this script started from this cache directory, one node or a cluster, whatever
# KAFKA_NODES says now: `down` stops them all.
kafka_all_node_dirs() {
  local dir
  echo "$KAFKA_HOME"
  for dir in "$KAFKA_HOME"/cluster-*/node-*; do
    if [[ -d $dir ]]; then echo "$dir"; fi
  done
}

kafka_stop() {
  local dir pid i j peers dirs=() pids=() clusters=() left=() alone=()
  while IFS= read -r dir; do
    if pid="$(kafka_pid_of "$dir")"; then
      dirs+=("$dir")
      pids+=("$pid")
      # The nodes of one cluster share the directory above theirs; a single node has none.
      if [[ $dir == */cluster-*/node-* ]]; then clusters+=("${dir%/node-*}"); else clusters+=(""); fi
    else
      rm -f "$dir/kafka.pid"
    fi
  done < <(kafka_all_node_dirs)
  if [[ ${#pids[@]} -eq 0 ]]; then
    say "kafka: no broker started by this script is running"
    return 0
  fi
  # All at once: the nodes of a cluster shut down in order while they still form a quorum.
  kill -TERM "${pids[@]}" 2>/dev/null || true
  # A controlled shutdown of a KRaft node takes a few seconds.
  for _ in $(seq 1 120); do
    left=()
    for i in "${!pids[@]}"; do
      if kill -0 "${pids[i]}" 2>/dev/null; then left+=("$i"); fi
    done
    [[ ${#left[@]} -gt 0 ]] || break
    # The last node of a cluster has no quorum left to record its own shutdown, and waits for one
    # for ever: after 5 s alone it is killed (its next start recovers its log, as after a crash).
    for i in "${left[@]}"; do
      if [[ -z ${clusters[i]} ]]; then continue; fi
      peers=0
      for j in "${left[@]}"; do
        if [[ ${clusters[j]} == "${clusters[i]}" ]]; then peers=$((peers + 1)); fi
      done
      if [[ $peers -eq 1 ]]; then
        alone[i]=$((${alone[i]:-0} + 1))
        if [[ ${alone[i]} -eq 10 ]]; then
          say "kafka: ${dirs[i]} (pid ${pids[i]}) is the last node of its cluster and cannot finish a controlled shutdown; killing it"
          kill -KILL "${pids[i]}" 2>/dev/null || true
        fi
      fi
    done
    sleep 0.5
  done
  if [[ ${#left[@]} -gt 0 ]]; then
    for i in "${left[@]}"; do
      say "kafka: pid ${pids[i]} ignored SIGTERM for 60 s; killing it"
      kill -KILL "${pids[i]}" 2>/dev/null || true
    done
  fi
  for dir in "${dirs[@]}"; do rm -f "$dir/kafka.pid"; done
  say "kafka: stopped (pid ${pids[*]})"
}

# Sets KAFKA_STATE and KAFKA_READY (1 when Kafka already answered), or asks for docker compose.
KAFKA_STATE="" KAFKA_READY=0 COMPOSE=()
kafka_up_single() {
  local dir pid
  dir="$(node_dir 1)"
  if kafka_answers; then
    KAFKA_READY=1
    if pid="$(kafka_pid_of "$dir")"; then
      KAFKA_STATE="reused the broker this script started (pid $pid, log $dir/logs/server.log)"
    else
      KAFKA_STATE="reused the broker at $KAFKA_BROKERS"
    fi
  elif [[ $KAFKA_BROKERS != "$KAFKA_LOCAL_BROKERS" ]]; then
    die "KAFKA_BROKERS=$KAFKA_BROKERS does not answer; unset it to let this script run a broker on $KAFKA_LOCAL_BROKERS"
  elif pid="$(kafka_pid_of "$dir")"; then
    kafka_require_port 1
    KAFKA_STATE="waited for the broker already starting (pid $pid)"
  elif ensure_java_and_maven; then
    kafka_require_free_ports 1
    kafka_fetch_jars
    kafka_launch 1
    KAFKA_STATE="started Kafka $KAFKA_VERSION (pid $(kafka_pid_of "$dir" || echo '?'), log $dir/logs/server.log)"
  elif docker_engine_answers; then
    COMPOSE+=(kafka)
    KAFKA_STATE="started Kafka with docker compose"
  else
    die "no Kafka: nothing answers on $KAFKA_BROKERS, Java or Maven is missing, and no Docker engine answers"
  fi
}

kafka_up_cluster() {
  local i dir pid running=() missing=() state=()
  if [[ $KAFKA_BROKERS != "$KAFKA_LOCAL_BROKERS" ]]; then
    kafka_answers ||
      die "KAFKA_BROKERS=$KAFKA_BROKERS does not answer with $KAFKA_NODES brokers; unset it to let this script run a cluster on $KAFKA_LOCAL_BROKERS"
    KAFKA_READY=1
    KAFKA_STATE="reused the cluster at $KAFKA_BROKERS"
    return 0
  fi
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    if pid="$(kafka_pid_of "$(node_dir "$i")")"; then running+=("$i"); else missing+=("$i"); fi
  done
  # A whole cluster on these ports that this script did not start (another tool's) is reused as is.
  if [[ ${#running[@]} -eq 0 ]] && kafka_answers; then
    KAFKA_READY=1
    KAFKA_STATE="reused the cluster at $KAFKA_BROKERS"
    return 0
  fi
  for i in "${running[@]}"; do kafka_require_port "$i"; done
  if [[ ${#missing[@]} -gt 0 ]]; then
    ensure_java_and_maven ||
      die "no Kafka: a cluster of $KAFKA_NODES runs from Maven jars, and Java or Maven is missing (docker-compose.yml runs one broker only)"
    for i in "${missing[@]}"; do kafka_require_free_ports "$i"; done
    kafka_fetch_jars
    for i in "${missing[@]}"; do kafka_launch "$i"; done
  fi
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    dir="$(node_dir "$i")"
    pid="$(kafka_pid_of "$dir" || echo '?')"
    if [[ " ${missing[*]} " == *" $i "* ]]; then state+=("node $i started (pid $pid)"); else state+=("node $i running (pid $pid)"); fi
  done
  KAFKA_STATE="cluster of $KAFKA_NODES, Kafka $KAFKA_VERSION: $(IFS=,; echo "${state[*]}" | sed 's/,/, /g'); logs in $KAFKA_HOME/cluster-$KAFKA_NODES/node-*/logs"
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
  # The file requires the apps' SIGNING_KEY_ENCRYPTION_SECRET; Kafka and PostgreSQL do not use it.
  SIGNING_KEY_ENCRYPTION_SECRET="${SIGNING_KEY_ENCRYPTION_SECRET:-not-used-by-kafka-or-postgres}" \
    POSTGRES_PORT="$PG_PORT" docker compose -f "$ROOT/docker-compose.yml" up -d "$@" >&2 9>&- ||
    die "docker compose up -d $* failed"
  printf '%s\n' "$@" >>"$COMPOSE_MARKER"
  sort -u -o "$COMPOSE_MARKER" "$COMPOSE_MARKER"
}

compose_stop() {
  [[ -s $COMPOSE_MARKER ]] || return 0
  local services
  mapfile -t services <"$COMPOSE_MARKER"
  SIGNING_KEY_ENCRYPTION_SECRET="${SIGNING_KEY_ENCRYPTION_SECRET:-not-used-by-kafka-or-postgres}" \
    docker compose -f "$ROOT/docker-compose.yml" stop "${services[@]}" >&2 ||
    die "docker compose stop ${services[*]} failed"
  rm -f "$COMPOSE_MARKER"
  say "compose: stopped ${services[*]}"
}

compose_started() { [[ -f $COMPOSE_MARKER ]] && grep -qx "$1" "$COMPOSE_MARKER"; }

# --- Commands -----------------------------------------------------------------------------------

up() {
  local started pg_state elapsed pg_ready=0
  started="$(now_ms)"
  require_node_modules
  take_lock
  read_database_url

  # Kafka first: the JVMs boot while PostgreSQL is being dealt with.
  if [[ $KAFKA_NODES -eq 1 ]]; then kafka_up_single; else kafka_up_cluster; fi

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
    COMPOSE+=(postgres)
    pg_state="started PostgreSQL with docker compose"
  else
    if [[ $PG_HOST != 127.0.0.1 && $PG_HOST != localhost ]]; then
      die "no PostgreSQL: nothing answers on $PG_HOST:$PG_PORT (not a local address, so no private cluster), and no Docker engine answers"
    fi
    die "no PostgreSQL: nothing answers on $PG_HOST:$PG_PORT, no initdb/pg_ctl under /usr/lib/postgresql/*/bin, and no Docker engine answers"
  fi

  if [[ ${#COMPOSE[@]} -gt 0 ]]; then compose_up "${COMPOSE[@]}"; fi

  if [[ $pg_ready -eq 0 ]]; then
    check postgres "$DATABASE_URL" --timeout "$TIMEOUT" || die "PostgreSQL is not ready"
  fi
  check ensure-database "$DATABASE_URL" >&2
  if [[ $KAFKA_READY -eq 0 ]]; then kafka_wait; fi

  elapsed="$(($(now_ms) - started))"
  say "kafka:    $KAFKA_STATE"
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
  local failed=0 i dir pid owner name address probe
  require_node_modules
  read_database_url

  if [[ $KAFKA_BROKERS != "$KAFKA_LOCAL_BROKERS" ]]; then
    # Brokers this script does not run: one line for all of them.
    if kafka_answers; then echo "kafka     up    $KAFKA_BROKERS (not started by this script)"
    else echo "kafka     down  $KAFKA_BROKERS (not started by this script)"; failed=1; fi
  else
    for ((i = 1; i <= KAFKA_NODES; i++)); do
      dir="$(node_dir "$i")"
      address="127.0.0.1:$(node_broker_port "$i")"
      if [[ $KAFKA_NODES -eq 1 ]]; then name=kafka; else name="kafka-$i"; fi
      if pid="$(kafka_pid_of "$dir")"; then owner="started by this script, pid $pid, log $dir/logs/server.log"
      elif [[ $KAFKA_NODES -eq 1 ]] && compose_started kafka; then owner="docker compose"
      else owner="not started by this script"; fi
      # A cluster's node on its own (its handshake: the metadata would be asked of any node).
      if [[ $KAFKA_NODES -eq 1 ]]; then probe=kafka; else probe=kafka-node; fi
      if check "$probe" "$address" 2>/dev/null; then
        printf '%-9s up    %s (%s)\n' "$name" "$address" "$owner"
      else
        printf '%-9s down  %s (%s)\n' "$name" "$address" "$owner"
        failed=1
      fi
    done
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

# For fault tests: the pid of node N of the cluster that KAFKA_NODES and ULO_CACHE_DIR name.
kafka_pid_command() {
  local n=${1:-}
  [[ $n =~ ^[1-9][0-9]*$ ]] && ((n <= KAFKA_NODES)) ||
    { say "usage: bash scripts/services.sh kafka-pid N, N from 1 to KAFKA_NODES ($KAFKA_NODES)"; exit 2; }
  kafka_pid_of "$(node_dir "$n")"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  kafka-pid) kafka_pid_command "${2:-}" ;;
  *)
    say "usage: bash scripts/services.sh up|down|status|kafka-pid N"
    exit 2
    ;;
esac
