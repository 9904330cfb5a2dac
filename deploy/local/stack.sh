#!/usr/bin/env bash
# The local stack without a container engine: Apache Kafka (KRaft, from its Maven Central
# jars) and PostgreSQL (Debian packages), data under $TITP_DATA_DIR, stopped by recorded pids.
#
#   stack.sh install   fetch what is missing (PostgreSQL packages, Kafka jars)
#   stack.sh start     install, start both, wait until real clients work (idempotent)
#   stack.sh stop      stop both by their recorded process ids (idempotent)
#   stack.sh status    print what runs
#   stack.sh up        start, then the four services and the console in the background (pids in $DATA/services)
#   stack.sh down      stop the console and the services, then the stack
#   stack.sh run       up in the foreground: Ctrl-C stops everything
#   stack.sh services  print the services: name, HTTP port, database (the one list, shared/settings.py)
#   stack.sh identity NAME   print the TITP_KAFKA_* exports of admin or a service (env prints the admin's)
#   stack.sh grant [PREFIX]  the services' topics and ACLs under a topic prefix of their own (bench, faults)
#   stack.sh kafka-node-stop N [SIGNAL]  stop Kafka node N (TERM by default; KILL for a crash), the others run on
#   stack.sh kafka-node-start N          start node N again and wait until the cluster has all its brokers
#
# TITP_KAFKA_BROKERS=3 runs a three-node KRaft cluster instead of one node (each node broker and controller):
# replication 3, min ISR 2. Node N listens on TITP_KAFKA_PORT+100*(N-1) (clients) and
# TITP_KAFKA_CONTROLLER_PORT+100*(N-1) (controller); the count is kept with the data (docs/local-stack.md).
#
# The officers' console (services/console) runs after the four services, on 127.0.0.1:TITP_CONSOLE_PORT (8000). It has
# no database and no topics, so it is not in the services' list; it signs officers' tokens with the dev key in
# $TITP_DATA_DIR/dev-keys, whose jwks.json is what the services trust (both made before either starts).
#
# TITP_KAFKA_PROXY_PORT=P (for faults/) gives node N a second client listener PROXIED, bound at
# 127.0.0.1:P+100*(N-1)+1 and advertised as 127.0.0.1:P+100*(N-1), where a proxy of the caller's forwards to it
# (faults/proxy.py): a client that bootstraps there is given proxy addresses only, so the proxy can cut it off
# alone (docs/local-stack.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${TITP_DATA_DIR:-$ROOT/.data}
PY=${TITP_PYTHON:-$ROOT/.venv/bin/python}
KAFKA_VERSION=4.3.1
KAFKA_PORT=${TITP_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${TITP_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_PROXY_PORT=${TITP_KAFKA_PROXY_PORT:-}  # empty: no PROXIED listener
# sasl: every Kafka client authenticates, the services as themselves (SCRAM-SHA-512, ACLs), the stack's tools and
# the tests as `admin` (deploy/local/kafka/server.properties). none: PLAINTEXT and no ACLs, only for a private
# stack beside a session whose clients speak PLAINTEXT (faults/stack.py).
KAFKA_AUTH=${TITP_KAFKA_AUTH:-sasl}
PG_PORT=${TITP_PG_PORT:-5432}
CONSOLE_PORT=${TITP_CONSOLE_PORT:-8000}
PG_USER=titp
PG_PASSWORD=${TITP_PG_PASSWORD:-titp}
# `titp` above is the cluster's superuser, for the stack's own administration only. The services connect as
# PG_APP (owns nothing, cannot disable triggers); their migrations run as PG_OWNER (owns the service databases
# and their tables, no superuser). Passwords generated once, kept in $PG_DIR/<role>.password (0600).
PG_OWNER=${TITP_PG_OWNER:-titp_owner}
PG_APP=${TITP_PG_APP:-titp_app}
# The services (name:port) and their databases (titp_<name>): read_services fills them from the one list,
# DEFAULT_HTTP_PORTS in shared/settings.py, for the commands that need them.
SERVICES=
DATABASES=

KAFKA_LIBS=$DATA/kafka-libs-$KAFKA_VERSION
KAFKA_DIR=$DATA/kafka
KAFKA_SECRETS=$KAFKA_DIR/secrets  # one password a file (0600): admin and each service, generated once
PG_DIR=$DATA/postgres

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The Kafka nodes: TITP_KAFKA_BROKERS, else as many as this data folder was started with, else one. One node keeps
# its files in $KAFKA_DIR itself (data, logs, server.properties, kafka.pid); in a cluster node N has
# $KAFKA_DIR/node-N and $KAFKA_DIR/kafka-N.pid.
BROKERS=${TITP_KAFKA_BROKERS:-$(cat "$KAFKA_DIR/brokers" 2>/dev/null || echo 1)}
case $BROKERS in '' | *[!0-9]* | 0) die "TITP_KAFKA_BROKERS must be a number of nodes, not '$BROKERS'" ;; esac
case $KAFKA_PROXY_PORT in *[!0-9]*) die "TITP_KAFKA_PROXY_PORT must be a port number, not '$KAFKA_PROXY_PORT'" ;; esac
case $CONSOLE_PORT in '' | *[!0-9]*) die "TITP_CONSOLE_PORT must be a port number, not '$CONSOLE_PORT'" ;; esac
REPLICATION=$((BROKERS < 3 ? BROKERS : 3))  # every partition on three nodes at most;
MIN_ISR=$((REPLICATION < 3 ? 1 : 2))         # with three, a write is acknowledged once two have it
NODES=$(seq 1 "$BROKERS")

node_port() { echo $((KAFKA_PORT + 100 * ($1 - 1))); }
node_controller_port() { echo $((KAFKA_CONTROLLER_PORT + 100 * ($1 - 1))); }
node_proxy_port() { echo $((KAFKA_PROXY_PORT + 100 * ($1 - 1))); }  # PROXIED's advertised port; bound one above
node_dir() { if [ "$BROKERS" = 1 ]; then echo "$KAFKA_DIR"; else echo "$KAFKA_DIR/node-$1"; fi; }
node_pidfile() { if [ "$BROKERS" = 1 ]; then echo "$KAFKA_DIR/kafka.pid"; else echo "$KAFKA_DIR/kafka-$1.pid"; fi; }
bootstrap() {  # every node's client address, comma separated: what clients are given
  local n list=
  for n in $NODES; do list="$list,127.0.0.1:$(node_port "$n")"; done
  echo "${list#,}"
}

# A process killed with SIGKILL stays a zombie (state Z in /proc/<pid>/stat) until it is reaped and
# still answers `kill -0` meanwhile: it counts as dead, or `start` would take it for a running one.
running() {
  kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0  # no /proc: kill -0 is all we know
  stat=${stat##*) }  # the state follows the command name, which may hold spaces and parentheses
  [ "${stat%% *}" != Z ]
}

alive() { [ -f "$1" ] && running "$(cat "$1")"; }

# deploy/local/services.py reads the list without importing anything: the venv's Python, else any python3.
read_services() {
  local py=$PY listed name port
  [ -x "$py" ] || py=$(command -v python3) || die "python3 is needed to read the services from shared/settings.py"
  listed=$("$py" "$ROOT/deploy/local/services.py") || die "cannot read the services from shared/settings.py"
  SERVICES= DATABASES=
  while read -r name port; do
    SERVICES="$SERVICES $name:$port"
    DATABASES="$DATABASES titp_$name"
  done <<< "$listed"
  SERVICES=${SERVICES# } DATABASES=${DATABASES# }
}

# PostgreSQL refuses to run as root; on a root machine it runs as the package's user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && echo "$dir"
}

install_postgres() {
  if [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ]; then return; fi
  [ "$(id -u)" = 0 ] || die "PostgreSQL is missing; run as root or: sudo apt-get install postgresql"
  log "installing PostgreSQL from the Debian packages"
  # Our cluster lives in $DATA; don't let the package create and start its own on 5432.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/titp.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql postgresql-contrib >/dev/null
}

install_kafka() {
  if [ -f "$KAFKA_LIBS/.complete" ]; then return; fi
  command -v java >/dev/null || die "java is missing (a JDK 17 is expected on this machine)"
  command -v mvn >/dev/null || die "mvn is missing (Maven fetches the Kafka jars)"
  log "fetching Apache Kafka $KAFKA_VERSION and its runtime dependencies from Maven Central"
  rm -rf "$KAFKA_LIBS"
  mvn -q -B -f "$ROOT/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >&2
  touch "$KAFKA_LIBS/.complete"
}

install() {
  mkdir -p "$DATA"
  install_postgres
  install_kafka
}

start_postgres() {
  local bin pidfile=$PG_DIR/data/postmaster.pid
  bin=$(pg_bin)
  if alive_pg; then log "PostgreSQL already running (pid $(head -n 1 "$pidfile"))"; return; fi
  mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    log "initialising a PostgreSQL cluster in $PG_DIR/data"
    local pw=$PG_DIR/.pw
    echo "$PG_PASSWORD" > "$pw"; [ "$(id -u)" = 0 ] && chown postgres: "$pw"
    as_pg "$bin/initdb" -D "$PG_DIR/data" -U "$PG_USER" --pwfile="$pw" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pw"
    cat >> "$PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
log_min_duration_statement = -1
EOF
  fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  # The port is given at each start, so TITP_PG_PORT moves an existing cluster too.
  as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -o "-p $PG_PORT" -w -t 60 start >/dev/null \
    || { tail -n 20 "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
  head -n 1 "$pidfile" > "$PG_DIR/postgres.pid"
}

alive_pg() {
  [ -f "$PG_DIR/data/postmaster.pid" ] && running "$(head -n 1 "$PG_DIR/data/postmaster.pid")"
}

secret() {  # name: its Kafka password, generated the first time (a new stack's admin may be given one)
  local file=$KAFKA_SECRETS/$1
  if [ ! -s "$file" ]; then
    mkdir -p "$KAFKA_SECRETS"; chmod 700 "$KAFKA_SECRETS"
    if [ "$1" = admin ] && [ -n "${TITP_KAFKA_ADMIN_PASSWORD:-}" ]; then
      (umask 077; printf '%s' "$TITP_KAFKA_ADMIN_PASSWORD" > "$file")
    else
      (umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' > "$file")
    fi
  fi
  cat "$file"
}

# Whether the broker authenticates: the running one as it was started (a broker started before authentication
# existed keeps PLAINTEXT until it is restarted), else as `start` would start it.
kafka_sasl() {
  if alive "$(node_pidfile 1)" && [ -f "$(node_dir 1)/server.properties" ]; then
    grep -q '^listeners=SASL_PLAINTEXT' "$(node_dir 1)/server.properties"
  else
    [ "$KAFKA_AUTH" = sasl ]
  fi
}

# name [plain]: the TITP_KAFKA_* lines a client of that identity needs. SCRAM-SHA-512 (the password never
# crosses the wire); `admin plain` is the static PLAIN admin, for the stack itself before `provision` gave the
# admin its SCRAM credential too.
identity() {
  if ! kafka_sasl; then echo "export TITP_KAFKA_SECURITY_PROTOCOL=PLAINTEXT"; return; fi
  local mechanism=SCRAM-SHA-512
  [ "${2:-}" = plain ] && mechanism=PLAIN
  echo "export TITP_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT"
  echo "export TITP_KAFKA_SASL_MECHANISM=$mechanism"
  echo "export TITP_KAFKA_USERNAME=$1"
  echo "export TITP_KAFKA_PASSWORD=$(secret "$1")"
}

# prefix: as the admin, every service's topics under that topic prefix, the admin's and every service's SCRAM
# credential and the services' ACLs (deploy/local/kafka/grants.txt, the prefix put before every topic and group
# name), in one JVM start. Idempotent; `start` runs it for the stack's prefix, bench/ and faults/ for theirs.
# All of it lives in the KRaft metadata log: done once for the same lines, it is not done again (a restart
# after a crash skips it), unless the metadata was formatted anew since.
provision() {
  kafka_sasl || return 0
  local src=$ROOT/deploy/local/kafka/Provision.java entry started=$SECONDS lines done_file tools
  lines=$(
    for entry in admin $SERVICES; do echo "user ${entry%%:*} $(secret "${entry%%:*}")"; done
    awk -v p="$1" '$1 == "topic" {print $1, p $2} $1 == "allow" {print $1, $2, $3, $4, p $5, $6}' \
      "$ROOT/deploy/local/kafka/grants.txt"
  )
  done_file=$KAFKA_SECRETS/provisioned-$( (cat "$(node_dir 1)/data/meta.properties"; echo "$lines") | sha256sum | cut -c1-32)
  if [ -f "$done_file" ]; then log "Kafka identities and ACLs for topic prefix '${1}' already in place"; return; fi
  # Compiled once per version of the source, beside the jars (which private stacks share): moved into place
  # whole, so stacks starting at once never run half a compilation.
  tools=$KAFKA_LIBS/provision-$(sha256sum "$src" | cut -c1-16)
  if [ ! -f "$tools/Provision.class" ]; then
    local building
    building=$(mktemp -d "$KAFKA_LIBS/.provision.XXXXXX")
    javac -nowarn -cp "$KAFKA_LIBS/*" -d "$building" "$src" || die "could not compile $src"
    mv -T "$building" "$tools" 2>/dev/null || rm -rf "$building"  # another stack won the race: same class
  fi
  printf '%s\n' "$lines" | java -cp "$KAFKA_LIBS/*:$tools" -Dkafka.logs.dir="$KAFKA_DIR/logs" \
      -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/log4j2.yaml" \
      Provision "$KAFKA_DIR/admin.properties" > "$KAFKA_DIR/logs/provision.log" \
    || die "could not provision the services' Kafka identities (see $KAFKA_DIR/logs/provision.log)"
  touch "$done_file"
  log "Kafka identities and ACLs for topic prefix '${1}' in $((SECONDS - started))s"
}

start_kafka() {
  local recorded n
  case $KAFKA_AUTH in sasl|none) ;; *) die "TITP_KAFKA_AUTH must be sasl or none, not $KAFKA_AUTH" ;; esac
  recorded=$(cat "$KAFKA_DIR/brokers" 2>/dev/null || { [ -d "$KAFKA_DIR/data" ] && echo 1; } || true)
  [ -z "$recorded" ] || [ "$recorded" = "$BROKERS" ] \
    || die "$KAFKA_DIR holds a cluster of $recorded node(s), not $BROKERS: stop it and remove $KAFKA_DIR first"
  mkdir -p "$KAFKA_DIR/logs"
  echo "$BROKERS" > "$KAFKA_DIR/brokers"
  (
    umask 077  # it holds the admin's password
    printf '%s\n' "bootstrap.servers=$(bootstrap)" security.protocol=SASL_PLAINTEXT sasl.mechanism=PLAIN \
      "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"$(secret admin)\";" \
      > "$KAFKA_DIR/admin.properties"
  )
  for n in $NODES; do start_node "$n"; done
}

cluster_id() {  # the one every node's storage is formatted with: a formatted node's, else a new one
  local n meta
  for n in $NODES; do
    meta=$(node_dir "$n")/data/meta.properties
    [ -f "$meta" ] && { sed -n 's/^cluster\.id=//p' "$meta"; return; }
  done
  java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1
}

start_node() {  # n: Kafka node n, unless it runs (idempotent); does not wait for it
  local n=$1 dir pidfile props admin proxied secured voters= v cp="$KAFKA_LIBS/*" heap="-Xms256m -Xmx512m" name=Kafka
  dir=$(node_dir "$n") pidfile=$(node_pidfile "$n") props=$(node_dir "$n")/server.properties
  [ "$BROKERS" = 1 ] || { name="Kafka node $n"; heap=${TITP_KAFKA_NODE_HEAP:--Xms128m -Xmx384m}; }
  if alive "$pidfile"; then log "$name already running (pid $(cat "$pidfile"))"; return; fi
  mkdir -p "$dir/logs"
  admin=$(secret admin)
  for v in $NODES; do voters="$voters,$v@127.0.0.1:$(node_controller_port "$v")"; done
  (
    umask 077  # it holds the admin's password
    # The file is one node's (compose mirrors it, tests/deploy/test_compose.py); a cluster's node differs in
    # its id, the voters and the replication.
    sed -e "s|^node\.id=.*|node.id=$n|; s|^controller\.quorum\.voters=.*|controller.quorum.voters=${voters#,}|" \
      -e "s/^\(default\.replication\.factor\|offsets\.topic\.replication\.factor\|transaction\.state\.log\.replication\.factor\)=.*/\1=$REPLICATION/" \
      -e "s/^\(min\.insync\.replicas\|transaction\.state\.log\.min\.isr\)=.*/\1=$MIN_ISR/" \
      -e "s|@KAFKA_PORT@|$(node_port "$n")|g; s|@CONTROLLER_PORT@|$(node_controller_port "$n")|g; s|@LOG_DIR@|$dir/data|g" \
      -e "s|@ADMIN_PASSWORD@|$admin|g" "$ROOT/deploy/local/kafka/server.properties" > "$props"
    if [ -n "$KAFKA_PROXY_PORT" ]; then
      # PROXIED: bound one port above the one it advertises (the proxy's), secured as the main client listener
      # (its listener.name.* lines copied); the brokers still talk to each other on the main one.
      proxied=$(node_proxy_port "$n")
      sed -i -e "s|^listeners=.*|&,PROXIED://127.0.0.1:$((proxied + 1))|" \
        -e "s|^advertised\.listeners=.*|&,PROXIED://127.0.0.1:$proxied|" \
        -e "s|^listener\.security\.protocol\.map=.*|&,PROXIED:SASL_PLAINTEXT|" "$props"
      secured=$(sed -n 's/^listener\.name\.sasl_plaintext\./listener.name.proxied./p' "$props")
      printf '%s\n' "$secured" >> "$props"
    fi
    if [ "$KAFKA_AUTH" = none ]; then
      sed -i -e '/^#/!s/SASL_PLAINTEXT/PLAINTEXT/g' \
        -e '/^\(sasl\.\|listener\.name\.\|authorizer\.\|allow\.everyone\|super\.users\)/d' "$props"
    fi
  )
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id
    id=$(cluster_id)
    log "formatting $name storage (cluster $id)"
    java -cp "$cp" -Dkafka.logs.dir="$dir/logs" -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/log4j2.yaml" \
      kafka.tools.StorageTool format -t "$id" -c "$props" --ignore-formatted >/dev/null
  fi
  log "starting $name $KAFKA_VERSION (KRaft) on 127.0.0.1:$(node_port "$n")"
  # shellcheck disable=SC2086
  nohup java $heap -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dkafka.logs.dir="$dir/logs" \
    -Dlog4j2.configurationFile="$ROOT/deploy/local/kafka/log4j2.yaml" \
    -cp "$cp" kafka.Kafka "$props" > "$dir/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}

wait_ready() {  # [servers]: the Kafka nodes that must answer themselves (default all: any of them may)
  log "waiting until PostgreSQL and Kafka answer real clients"
  # shellcheck disable=SC2086
  (eval "$(identity admin plain)"; exec "$PY" "$ROOT/deploy/local/ready.py" \
    --kafka "${1:-$(bootstrap)}" --brokers "$BROKERS" \
    --postgres "postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres" \
    --databases $DATABASES) \
    || { tail -n 30 "$(node_dir 1)/logs/stdout.log" >&2 || true; die "the stack did not become ready"; }
  provision "${TITP_TOPIC_PREFIX:-}"
}

# Idempotent: creates the roles on a cluster initialised before they existed, and hands the service databases
# (and every table in them) to the owner.
setup_roles() {
  # shellcheck disable=SC2086
  "$PY" "$ROOT/deploy/local/roles.py" --postgres "postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres" \
    --secrets "$PG_DIR" --owner "$PG_OWNER" --app "$PG_APP" --databases $DATABASES \
    || die "could not set up the database roles"
}

pg_url() {  # role database: the role's URL, its password from the data folder
  echo "postgresql://$1:$(cat "$PG_DIR/$1.password")@127.0.0.1:$PG_PORT/$2"
}

stop_pid() {  # name pidfile signal
  local name=$1 pidfile=$2 signal=$3 pid
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill "-$signal" "$pid" 2>/dev/null || true
  wait_stopped "$name" "$pidfile" "$signal"
}

wait_stopped() {  # name pidfile signal: waits until the process signalled is gone, SIGKILL after 30 s
  local name=$1 pidfile=$2 signal=$3 pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  for _ in $(seq 1 300); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then log "$name ignored SIG$signal; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

stop_kafka() {
  local n pidfile
  if [ "$BROKERS" = 1 ]; then stop_pid Kafka "$KAFKA_DIR/kafka.pid" TERM; return; fi
  # All nodes told at once: one by one, the last ones would wait for a controller quorum that is gone.
  for n in $NODES; do
    pidfile=$(node_pidfile "$n")
    if alive "$pidfile"; then log "stopping Kafka node $n (pid $(cat "$pidfile"))"; kill -TERM "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  for n in $NODES; do wait_stopped "Kafka node $n" "$(node_pidfile "$n")" TERM; done
}

node_arg() {  # the node number a kafka-node-* command was given
  case ${1:-} in '' | *[!0-9]*) die "usage: $0 kafka-node-stop|kafka-node-start N (1..$BROKERS)" ;; esac
  [ "$1" -ge 1 ] && [ "$1" -le "$BROKERS" ] || die "node $1 is not one of 1..$BROKERS"
  echo "$1"
}

stop() {
  stop_kafka
  # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
  stop_pid PostgreSQL "$PG_DIR/postgres.pid" INT
}

# The dev issuer's signing key and its public jwks.json in $DATA/dev-keys: made before the services start (they
# trust that JWKS, TITP_DATA_DIR below) and the console (it signs officers' tokens with that key), so neither
# starts without them and no two processes make them at once. Kept across restarts, as `titp dev-token` keeps them.
dev_keys() {
  "$ROOT/.venv/bin/python" -c 'import sys, pathlib; from shared.web.auth import ensure_dev_keys
ensure_dev_keys(pathlib.Path(sys.argv[1]))' "$DATA/dev-keys" || die "could not make the dev keys in $DATA/dev-keys"
}

# port: something already listens on 127.0.0.1:port. Checked before a process is started there, or the wait
# below would take another stack's answer for this one's.
taken() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

port_free() {  # name port [setting]: or stop, naming the port and what moves it
  ! taken "$2" || die "127.0.0.1:$2 ($1's port) is taken by another process: stop it${3:+, or move $1 with $3}"
}

# Before anything starts (up, run): the HTTP ports of the services and the console that are not running yet are
# free, so a taken one stops `up` at once rather than after Kafka and PostgreSQL have started.
check_ports() {
  local entry
  alive "$DATA/services/console.pid" || port_free console "$CONSOLE_PORT" TITP_CONSOLE_PORT
  for entry in $SERVICES; do alive "$DATA/services/${entry%%:*}.pid" || port_free "${entry%%:*}" "${entry##*:}"; done
}

wait_http() {  # name port path: until GET http://127.0.0.1:port/path answers 200, 60 s at most, while the process lives
  local name=$1
  "$PY" - "$(cat "$DATA/services/$name.pid")" "$2" "$3" <<'PYEOF' || die "$name did not become ready (see $DATA/services/$name.log)"
import sys, time, httpx
from pathlib import Path
pid, port, path = sys.argv[1], sys.argv[2], sys.argv[3]
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
            sys.exit(0)
    except httpx.HTTPError:
        pass
    try:  # as `running` above: a zombie has exited; no /proc at all, and the deadline decides
        exited = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1][:1] == "Z"
    except FileNotFoundError:
        exited = Path("/proc/self/stat").exists()
    if exited:
        sys.exit(1)  # its log says why
    time.sleep(0.5)
sys.exit(1)
PYEOF
}

start_services() {
  mkdir -p "$DATA/services"
  dev_keys
  local entry name port pidfile
  for entry in $SERVICES; do
    name=${entry%%:*}; port=${entry##*:}; pidfile=$DATA/services/$name.pid
    if alive "$pidfile"; then log "$name already running (pid $(cat "$pidfile"))"; continue; fi
    port_free "$name" "$port"
    log "starting $name on http://127.0.0.1:$port (docs at /docs)"
    (eval "$(identity "$name")"  # its own Kafka identity
    TITP_DATA_DIR="$DATA" \
    TITP_DATABASE_URL="$(pg_url "$PG_APP" "titp_$name")" \
    TITP_MIGRATION_DATABASE_URL="$(pg_url "$PG_OWNER" "titp_$name")" \
    TITP_KAFKA_BOOTSTRAP_SERVERS="$(bootstrap)" TITP_TOPIC_REPLICATION=$REPLICATION \
    TITP_HTTP_HOST=127.0.0.1 TITP_HTTP_PORT="$port" \
    nohup "$ROOT/.venv/bin/python" -m shared.web.serve "services.$name.app:create_app" \
      > "$DATA/services/$name.log" 2>&1 < /dev/null &
    echo $! > "$pidfile")
  done
  for entry in $SERVICES; do wait_http "${entry%%:*}" "${entry##*:}" /readyz; done
  log "services ready"
  start_console
}

# The console, once the services answer: their addresses from the one list, the dev key of $DATA (its own
# TITP_CONSOLE_* settings from the caller's environment otherwise, e.g. an OIDC issuer; docs/operations.md).
start_console() {
  local entry name pidfile=$DATA/services/console.pid addresses=()
  if alive "$pidfile"; then log "console already running (pid $(cat "$pidfile"))"; return; fi
  port_free console "$CONSOLE_PORT" TITP_CONSOLE_PORT
  for entry in $SERVICES; do
    name=${entry%%:*}
    addresses+=("TITP_CONSOLE_${name^^}_URL=http://127.0.0.1:${entry##*:}")
  done
  log "starting the console on http://127.0.0.1:$CONSOLE_PORT"
  (env "${addresses[@]}" TITP_CONSOLE_DATA_DIR="$DATA" \
    TITP_CONSOLE_HTTP_HOST=127.0.0.1 TITP_CONSOLE_HTTP_PORT="$CONSOLE_PORT" \
    nohup "$ROOT/.venv/bin/python" -m services.console > "$DATA/services/console.log" 2>&1 < /dev/null &
  echo $! > "$pidfile")
  wait_http console "$CONSOLE_PORT" /healthz
  log "console ready: http://127.0.0.1:$CONSOLE_PORT (sign in there)"
}

stop_services() {
  local entry
  stop_pid console "$DATA/services/console.pid" TERM
  for entry in $SERVICES; do stop_pid "${entry%%:*}" "$DATA/services/${entry%%:*}.pid" TERM; done
}

status() {
  local entry pidfile n
  for entry in $SERVICES; do
    pidfile=$DATA/services/${entry%%:*}.pid
    if alive "$pidfile"; then echo "${entry%%:*} running pid $(cat "$pidfile") 127.0.0.1:${entry##*:}"; else echo "${entry%%:*} stopped"; fi
  done
  pidfile=$DATA/services/console.pid
  if alive "$pidfile"; then echo "console running pid $(cat "$pidfile") 127.0.0.1:$CONSOLE_PORT"; else echo "console stopped"; fi
  if [ "$BROKERS" = 1 ]; then
    if alive "$KAFKA_DIR/kafka.pid"; then echo "kafka running pid $(cat "$KAFKA_DIR/kafka.pid") 127.0.0.1:$KAFKA_PORT"; else echo "kafka stopped"; fi
  else
    for n in $NODES; do
      pidfile=$(node_pidfile "$n")
      if alive "$pidfile"; then echo "kafka-$n running pid $(cat "$pidfile") 127.0.0.1:$(node_port "$n")"; else echo "kafka-$n stopped"; fi
    done
  fi
  if alive_pg; then echo "postgres running pid $(head -n 1 "$PG_DIR/data/postmaster.pid") 127.0.0.1:$PG_PORT"; else echo "postgres stopped"; fi
}

case "${1:-}" in
  start|up|down|run|status|services|grant|kafka-node-start) read_services ;;
esac

case "${1:-}" in
  install) install ;;
  start) install; start_postgres; start_kafka; wait_ready; setup_roles ;;
  stop) stop ;;
  up) check_ports; install; start_postgres; start_kafka; wait_ready; setup_roles; start_services ;;
  down) stop_services; stop ;;
  run)
    check_ports; install; start_postgres; start_kafka; wait_ready; setup_roles
    tail_pid=
    trap 'trap - INT TERM; log "stopping everything"; [ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null; stop_services; stop; exit 0' INT TERM
    start_services
    log "running; the console: http://127.0.0.1:$CONSOLE_PORT. Ctrl-C stops everything. Logs: $DATA/services/*.log"
    tail -n 0 -F "$DATA"/services/*.log &
    tail_pid=$!
    wait ;;
  status) status ;;
  services)
    for entry in $SERVICES; do echo "${entry%%:*} ${entry##*:} titp_${entry%%:*}"; done ;;
  env)
    echo "export DATABASE_URL=postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"
    echo "export KAFKA_BOOTSTRAP_SERVERS=$(bootstrap)"
    # Not in `identity`: who spawns a service with an identity gives it the address to use (bench, faults).
    echo "export TITP_KAFKA_BOOTSTRAP_SERVERS=$(bootstrap)"
    identity admin
    [ "$BROKERS" = 1 ] || echo "export TITP_TOPIC_REPLICATION=$REPLICATION"
    # The services' two roles (the test fixtures run services as DATABASE_APP_URL), once `start` created them.
    if [ -f "$PG_DIR/$PG_APP.password" ] && [ -f "$PG_DIR/$PG_OWNER.password" ]; then
      echo "export DATABASE_OWNER_URL=$(pg_url "$PG_OWNER" postgres)"
      echo "export DATABASE_APP_URL=$(pg_url "$PG_APP" postgres)"
    fi ;;
  identity) [ -n "${2:-}" ] || die "usage: $0 identity <admin|service>"; identity "$2" ;;
  grant) provision "${2:-}" ;;
  kafka-node-stop) n=$(node_arg "${2:-}"); stop_pid "Kafka node $n" "$(node_pidfile "$n")" "${3:-TERM}" ;;
  kafka-node-start)  # a node takes client requests once the controller has unfenced it: ready when it answers
    n=$(node_arg "${2:-}"); install; start_node "$n"; wait_ready "127.0.0.1:$(node_port "$n")" ;;
  *) echo "usage: $0 install|start|stop|status|up|down|run|env|identity|grant|services|kafka-node-stop|kafka-node-start" >&2; exit 2 ;;
esac
