# Redis from Debian's packages: a primary, one replica and three Sentinels (the local twin
# of ElastiCache with one replica), plus a 6-node cluster for cluster-mode tests. Sourced.

REDIS_DIR="$STATE/redis"

redis_ping() { redis-cli -h "$HOST" -p "$1" ping 2>/dev/null | grep -q PONG; }

# start_redis NAME PORT ARGS...: starts one redis-server unless the port already answers.
start_redis() {
  local name=$1 port=$2; shift 2
  redis_ping "$port" && return 0
  local dir="$REDIS_DIR/$name"; mkdir -p "$dir"
  redis-server --port "$port" --bind "$HOST" --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$LOGS/redis-$name.log" \
    --save '' --appendonly no "$@" || die "redis-server $name failed to start"
  wait_until 10 "redis $name on :$port" redis_ping "$port"
}

start_sentinel() {
  local port=$1 dir="$REDIS_DIR/sentinel-$1"
  redis_ping "$port" && return 0
  mkdir -p "$dir"
  # Sentinel rewrites its config file, so each has its own, written fresh on start.
  cat >"$dir/sentinel.conf" <<CONF
port $port
bind $HOST
daemonize yes
dir $dir
pidfile $dir/sentinel.pid
logfile $LOGS/sentinel-$port.log
sentinel resolve-hostnames no
sentinel monitor $SENTINEL_NAME $HOST $REDIS_PRIMARY_PORT 2
sentinel down-after-milliseconds $SENTINEL_NAME 1000
sentinel failover-timeout $SENTINEL_NAME 5000
sentinel parallel-syncs $SENTINEL_NAME 1
CONF
  redis-sentinel "$dir/sentinel.conf" || die "redis-sentinel on :$port failed to start"
  wait_until 10 "sentinel on :$port" redis_ping "$port"
}

cluster_ok() { redis-cli -h "$HOST" -p "${CLUSTER_PORTS[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }

start_cluster() {
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    start_redis "cluster-$port" "$port" --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 2000
  done
  cluster_ok && return 0
  local known; known="$(redis-cli -h "$HOST" -p "${CLUSTER_PORTS[0]}" cluster info | awk -F: '/cluster_known_nodes/{print $2+0}')"
  if [[ "$known" == 1 ]]; then
    local addrs=(); for port in "${CLUSTER_PORTS[@]}"; do addrs+=("$HOST:$port"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$LOGS/cluster-create.log" 2>&1 \
      || { tail -20 "$LOGS/cluster-create.log" >&2; die "redis cluster create failed"; }
  fi
  wait_until 30 "the redis cluster to be ok" cluster_ok
}

sentinel_primary_port() {
  redis-cli -h "$HOST" -p "${SENTINEL_PORTS[0]}" sentinel get-master-addr-by-name "$SENTINEL_NAME" 2>/dev/null | sed -n 2p
}
replica_in_sync() { redis-cli -h "$HOST" -p "$1" info replication 2>/dev/null | grep -q 'master_link_status:up'; }
configured_primary_is_primary() { [[ "$(sentinel_primary_port)" == "$REDIS_PRIMARY_PORT" ]]; }

# After a failover (a test, a crash) the roles may be swapped; .local/env.json promises the
# configured primary, so switch back once the old primary has resynced as a replica.
redis_normalize_roles() {
  configured_primary_is_primary && return 0
  wait_until 30 "redis :$REDIS_PRIMARY_PORT to resync as a replica" replica_in_sync "$REDIS_PRIMARY_PORT" || return 1
  redis-cli -h "$HOST" -p "${SENTINEL_PORTS[0]}" sentinel failover "$SENTINEL_NAME" >/dev/null
  wait_until 30 "Sentinel to make :$REDIS_PRIMARY_PORT primary again" configured_primary_is_primary
  wait_until 30 "redis :$REDIS_REPLICA_PORT to resync as a replica" replica_in_sync "$REDIS_REPLICA_PORT"
}

redis_up() {
  command -v redis-server >/dev/null && command -v redis-sentinel >/dev/null && command -v redis-cli >/dev/null \
    || ensure_apt_packages redis-server redis-sentinel redis-tools
  start_redis primary "$REDIS_PRIMARY_PORT"
  start_redis replica "$REDIS_REPLICA_PORT" --replicaof "$HOST" "$REDIS_PRIMARY_PORT"
  local p; for p in "${SENTINEL_PORTS[@]}"; do start_sentinel "$p"; done
  redis_normalize_roles || die "could not restore the primary/replica roles"
  start_cluster
}

# Shuts down every Redis process of the stack and forgets its data (it is a cache).
redis_down() {
  local port
  for port in "${SENTINEL_PORTS[@]}" "$REDIS_PRIMARY_PORT" "$REDIS_REPLICA_PORT" "${CLUSTER_PORTS[@]}"; do
    redis_ping "$port" && redis-cli -h "$HOST" -p "$port" shutdown nosave >/dev/null 2>&1
  done
  local pidfile
  for pidfile in "$REDIS_DIR"/*/redis.pid "$REDIS_DIR"/*/sentinel.pid; do
    [[ -f "$pidfile" ]] || continue
    pid_alive "$pidfile" && kill -TERM "$(cat "$pidfile")" 2>/dev/null
  done
  for port in "${SENTINEL_PORTS[@]}" "$REDIS_PRIMARY_PORT" "$REDIS_REPLICA_PORT" "${CLUSTER_PORTS[@]}"; do
    wait_until 10 "redis on :$port to stop" bash -c "! redis-cli -h $HOST -p $port ping"
  done
  rm -rf "$REDIS_DIR"
}
