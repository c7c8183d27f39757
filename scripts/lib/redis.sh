# Redis from Debian's packages: a primary, one replica and three Sentinels (the local twin
# of ElastiCache with one replica), plus a 6-node cluster for cluster-mode tests. Sourced.

REDIS_DIR="$STATE/redis"

# Failover timing profiles of the Sentinels (docs/decisions/0009-elasticache-like-twin.md):
#   fast         down-after 1000 ms, failover-timeout 5000 ms: the default, fast tests
#   elasticache  down-after drawn in [15000, 30000] ms (fixed with REDIS_DOWN_AFTER_MS),
#                failover-timeout 2 x down-after: ElastiCache's tens of seconds
# `env.sh up` applies the profile asked for (--profile, else $REDIS_PROFILE, else fast) to
# running Sentinels with SENTINEL SET: no restart, no failover.
REDIS_FAST_DOWN_AFTER_MS=1000
REDIS_FAST_FAILOVER_TIMEOUT_MS=5000
REDIS_EC_DOWN_AFTER_MIN_MS=15000
REDIS_EC_DOWN_AFTER_MAX_MS=30000
REDIS_WANT_DOWN_AFTER_MS=$REDIS_FAST_DOWN_AFTER_MS      # set by redis_choose_profile
REDIS_WANT_FAILOVER_TIMEOUT_MS=$REDIS_FAST_FAILOVER_TIMEOUT_MS

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
sentinel down-after-milliseconds $SENTINEL_NAME $REDIS_WANT_DOWN_AFTER_MS
sentinel failover-timeout $SENTINEL_NAME $REDIS_WANT_FAILOVER_TIMEOUT_MS
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
  # Sentinel holds back a new failover of the same master for 2 x failover-timeout after the
  # last one started: without this wait, a failover test right after this switch-back would
  # see its primary die and no promotion for that long (a flake that depended on file order).
  local timings; timings="$(sentinel_timings "${SENTINEL_PORTS[0]}")"
  sleep "$(( 2 * ${timings#* } / 1000 + 1 ))"
}

# sentinel_timings PORT: "<down-after-ms> <failover-timeout-ms>" of a running Sentinel.
sentinel_timings() {
  redis-cli -h "$HOST" -p "$1" sentinel master "$SENTINEL_NAME" 2>/dev/null \
    | awk 'prev=="down-after-milliseconds"{d=$0} prev=="failover-timeout"{f=$0} {prev=$0} END{if (d!="" && f!="") print d, f}'
}

# profile_of DOWN_AFTER FAILOVER_TIMEOUT: fast, elasticache, or custom.
profile_of() {
  if (( $1 == REDIS_FAST_DOWN_AFTER_MS && $2 == REDIS_FAST_FAILOVER_TIMEOUT_MS )); then echo fast
  elif (( $1 >= REDIS_EC_DOWN_AFTER_MIN_MS && $1 <= REDIS_EC_DOWN_AFTER_MAX_MS && $2 == 2 * $1 )); then echo elasticache
  else echo custom; fi
}

# redis_choose_profile PROFILE: sets REDIS_WANT_*. For elasticache, Sentinels already running
# it keep their drawn value (so `up` stays a no-op), unless REDIS_DOWN_AFTER_MS asks otherwise.
redis_choose_profile() {
  case "$1" in
    fast)
      REDIS_WANT_DOWN_AFTER_MS=$REDIS_FAST_DOWN_AFTER_MS REDIS_WANT_FAILOVER_TIMEOUT_MS=$REDIS_FAST_FAILOVER_TIMEOUT_MS ;;
    elasticache)
      local d="${REDIS_DOWN_AFTER_MS:-}" t
      if [[ -n "$d" ]]; then
        [[ "$d" =~ ^[0-9]+$ ]] && (( d >= 100 )) || die "REDIS_DOWN_AFTER_MS must be a number of ms >= 100, got '$d'"
      elif t="$(sentinel_timings "${SENTINEL_PORTS[0]}")" && [[ -n "$t" && "$(profile_of $t)" == elasticache ]]; then
        d="${t%% *}"
      else
        d=$(( REDIS_EC_DOWN_AFTER_MIN_MS + RANDOM % (REDIS_EC_DOWN_AFTER_MAX_MS - REDIS_EC_DOWN_AFTER_MIN_MS + 1) ))
      fi
      REDIS_WANT_DOWN_AFTER_MS=$d REDIS_WANT_FAILOVER_TIMEOUT_MS=$(( 2 * d )) ;;
    *) die "unknown Redis profile '$1' (fast | elasticache)" ;;
  esac
}

# Reconfigures running Sentinels whose timings differ from the wanted ones (SENTINEL SET:
# applied at once, no restart, no failover). Quiet when nothing changes.
redis_apply_profile() {
  local p changed=0
  for p in "${SENTINEL_PORTS[@]}"; do
    [[ "$(sentinel_timings "$p")" == "$REDIS_WANT_DOWN_AFTER_MS $REDIS_WANT_FAILOVER_TIMEOUT_MS" ]] && continue
    redis-cli -h "$HOST" -p "$p" sentinel set "$SENTINEL_NAME" down-after-milliseconds "$REDIS_WANT_DOWN_AFTER_MS" \
      failover-timeout "$REDIS_WANT_FAILOVER_TIMEOUT_MS" | grep -qx OK || die "SENTINEL SET on :$p failed"
    changed=1
  done
  (( changed )) && say "redis sentinels: profile $(profile_of "$REDIS_WANT_DOWN_AFTER_MS" "$REDIS_WANT_FAILOVER_TIMEOUT_MS") (down-after ${REDIS_WANT_DOWN_AFTER_MS} ms, failover-timeout ${REDIS_WANT_FAILOVER_TIMEOUT_MS} ms)"
  return 0
}

# redis_profile_status: one line on the profile the Sentinels run ("mixed" if they disagree).
redis_profile_status() {
  local p t seen=""
  for p in "${SENTINEL_PORTS[@]}"; do
    t="$(sentinel_timings "$p")" || true
    [[ -n "$t" ]] || continue
    [[ -z "$seen" || "$seen" == "$t" ]] || { echo "redis profile: mixed (the Sentinels disagree; npm run env:up fixes it)"; return 0; }
    seen="$t"
  done
  [[ -n "$seen" ]] || return 0
  echo "redis profile: $(profile_of $seen) (down-after ${seen% *} ms, failover-timeout ${seen#* } ms)"
}

# redis_up [PROFILE]: PROFILE defaults to $REDIS_PROFILE, else fast.
redis_up() {
  command -v redis-server >/dev/null && command -v redis-sentinel >/dev/null && command -v redis-cli >/dev/null \
    || ensure_apt_packages redis-server redis-sentinel redis-tools
  redis_choose_profile "${1:-${REDIS_PROFILE:-fast}}"
  start_redis primary "$REDIS_PRIMARY_PORT"
  start_redis replica "$REDIS_REPLICA_PORT" --replicaof "$HOST" "$REDIS_PRIMARY_PORT"
  local p; for p in "${SENTINEL_PORTS[@]}"; do start_sentinel "$p"; done
  redis_apply_profile
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
