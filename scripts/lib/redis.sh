# Redis from Debian's packages: a primary, one replica and three Sentinels (the local twin
# of ElastiCache with one replica), plus a 6-node cluster for cluster-mode tests. Sourced,
# after tls.sh.
#
# Every process speaks TLS only (`port 0` + `tls-port`) and requires the password, as
# ElastiCache with in-transit encryption and an AUTH token: replication over TLS with
# masterauth, Sentinels with requirepass, auth-pass and TLS to the nodes they monitor, the
# cluster bus over TLS. Clients present no certificate (`tls-auth-clients no`, as ElastiCache).
# A stack still running plain (started before the switch) is restarted once by `redis_up`.
# Decision: docs/decisions/0017-local-redis-tls.md.

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

# rcli PORT ARGS...: redis-cli to the stack's node on PORT, over TLS, authenticated
# (REDISCLI_AUTH: the password never appears on a command line).
rcli() {
  local port=$1; shift
  REDISCLI_AUTH="$(redis_password)" redis-cli --tls --cacert "$TLS_CA" -h "$HOST" -p "$port" "$@"
}

redis_ping() { rcli "$1" ping 2>/dev/null | grep -q PONG; }
# redis_plain_ping PORT: a plain-TCP, password-less Redis answers there (the stack before TLS).
redis_plain_ping() { redis-cli -h "$HOST" -p "$1" ping 2>/dev/null | grep -q PONG; }
port_listening() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# The TLS server settings shared by every redis-server and Sentinel, one directive a line.
redis_tls_conf() {
  cat <<CONF
port 0
tls-cert-file $TLS_CERT
tls-key-file $TLS_KEY
tls-ca-cert-file $TLS_CA
tls-auth-clients no
tls-replication yes
CONF
}

# start_redis NAME PORT ARGS...: starts one redis-server unless the port already answers.
# Its config file (mode 0600, it holds the password) is written fresh on every start.
start_redis() {
  local name=$1 port=$2; shift 2
  redis_ping "$port" && return 0
  local dir="$REDIS_DIR/$name"; mkdir -p "$dir"
  local password; password="$(redis_password)"
  (umask 077; { redis_tls_conf; printf 'tls-port %s\nrequirepass %s\nmasterauth %s\n' "$port" "$password" "$password"; } >"$dir/redis.conf")
  redis-server "$dir/redis.conf" --bind "$HOST" --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$LOGS/redis-$name.log" \
    --save '' --appendonly no "$@" || die "redis-server $name failed to start"
  wait_until 10 "redis $name on :$port" redis_ping "$port"
}

start_sentinel() {
  local port=$1 dir="$REDIS_DIR/sentinel-$1"
  redis_ping "$port" && return 0
  mkdir -p "$dir"
  # Sentinel rewrites its config file, so each has its own, written fresh on start (0600:
  # it holds the password, which Sentinel also gives the other Sentinels).
  local password; password="$(redis_password)"
  (umask 077; { redis_tls_conf; cat <<CONF; } >"$dir/sentinel.conf")
tls-port $port
requirepass $password
bind $HOST
daemonize yes
dir $dir
pidfile $dir/sentinel.pid
logfile $LOGS/sentinel-$port.log
sentinel resolve-hostnames no
sentinel monitor $SENTINEL_NAME $HOST $REDIS_PRIMARY_PORT 2
sentinel auth-pass $SENTINEL_NAME $password
sentinel down-after-milliseconds $SENTINEL_NAME $REDIS_WANT_DOWN_AFTER_MS
sentinel failover-timeout $SENTINEL_NAME $REDIS_WANT_FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $SENTINEL_NAME 1
CONF
  redis-sentinel "$dir/sentinel.conf" || die "redis-sentinel on :$port failed to start"
  wait_until 10 "sentinel on :$port" redis_ping "$port"
}

cluster_ok() { rcli "${CLUSTER_PORTS[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }

start_cluster() {
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    start_redis "cluster-$port" "$port" --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 2000 --tls-cluster yes
  done
  cluster_ok && return 0
  local known; known="$(rcli "${CLUSTER_PORTS[0]}" cluster info | awk -F: '/cluster_known_nodes/{print $2+0}')"
  if [[ "$known" == 1 ]]; then
    local addrs=(); for port in "${CLUSTER_PORTS[@]}"; do addrs+=("$HOST:$port"); done
    REDISCLI_AUTH="$(redis_password)" redis-cli --tls --cacert "$TLS_CA" --cluster create "${addrs[@]}" \
      --cluster-replicas 1 --cluster-yes >"$LOGS/cluster-create.log" 2>&1 \
      || { tail -20 "$LOGS/cluster-create.log" >&2; die "redis cluster create failed"; }
  fi
  wait_until 30 "the redis cluster to be ok" cluster_ok
}

sentinel_primary_port() {
  rcli "${SENTINEL_PORTS[0]}" sentinel get-master-addr-by-name "$SENTINEL_NAME" 2>/dev/null | sed -n 2p
}
replica_in_sync() { rcli "$1" info replication 2>/dev/null | grep -q 'master_link_status:up'; }
configured_primary_is_primary() { [[ "$(sentinel_primary_port)" == "$REDIS_PRIMARY_PORT" ]]; }

# After a failover (a test, a crash) the roles may be swapped; .local/env.json promises the
# configured primary, so switch back once the old primary has resynced as a replica.
redis_normalize_roles() {
  configured_primary_is_primary && return 0
  wait_until 30 "redis :$REDIS_PRIMARY_PORT to resync as a replica" replica_in_sync "$REDIS_PRIMARY_PORT" || return 1
  rcli "${SENTINEL_PORTS[0]}" sentinel failover "$SENTINEL_NAME" >/dev/null
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
  rcli "$1" sentinel master "$SENTINEL_NAME" 2>/dev/null \
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
    rcli "$p" sentinel set "$SENTINEL_NAME" down-after-milliseconds "$REDIS_WANT_DOWN_AFTER_MS" \
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

redis_all_ports() { echo "${SENTINEL_PORTS[@]}" "$REDIS_PRIMARY_PORT" "$REDIS_REPLICA_PORT" "${CLUSTER_PORTS[@]}"; }

# redis_switch_to_tls: a stack started before TLS (any port answers plain PING) is stopped,
# its data forgotten (a cache), so that redis_up starts every process anew with TLS. Once.
redis_switch_to_tls() {
  local port plain=()
  for port in $(redis_all_ports); do redis_plain_ping "$port" && plain+=("$port"); done
  (( ${#plain[@]} == 0 )) && return 0
  say "redis: the local Redis runs plain (ports ${plain[*]}): restarting it with TLS and a password..."
  redis_down
}

# redis_up [PROFILE]: PROFILE defaults to $REDIS_PROFILE, else fast.
redis_up() {
  command -v redis-server >/dev/null && command -v redis-sentinel >/dev/null && command -v redis-cli >/dev/null \
    || ensure_apt_packages redis-server redis-sentinel redis-tools
  tls_up
  redis_switch_to_tls
  redis_choose_profile "${1:-${REDIS_PROFILE:-fast}}"
  start_redis primary "$REDIS_PRIMARY_PORT"
  start_redis replica "$REDIS_REPLICA_PORT" --replicaof "$HOST" "$REDIS_PRIMARY_PORT"
  local p; for p in "${SENTINEL_PORTS[@]}"; do start_sentinel "$p"; done
  redis_apply_profile
  redis_normalize_roles || die "could not restore the primary/replica roles"
  start_cluster
}

# Shuts down every Redis process of the stack (TLS or, before the switch, plain) and
# forgets its data (it is a cache). Redis and Sentinel exit on SIGTERM (no save: none is set).
redis_down() {
  local port
  for port in $(redis_all_ports); do
    if redis_plain_ping "$port"; then redis-cli -h "$HOST" -p "$port" shutdown nosave >/dev/null 2>&1
    elif [[ -f "$TLS_CA" && -s "$REDIS_PASSWORD_FILE" ]] && redis_ping "$port"; then rcli "$port" shutdown nosave >/dev/null 2>&1
    fi
  done
  local pidfile
  for pidfile in "$REDIS_DIR"/*/redis.pid "$REDIS_DIR"/*/sentinel.pid; do
    [[ -f "$pidfile" ]] || continue
    pid_alive "$pidfile" && kill -TERM "$(cat "$pidfile")" 2>/dev/null
  done
  for port in $(redis_all_ports); do
    wait_until 10 "redis on :$port to stop" bash -c "! (exec 3<>/dev/tcp/$HOST/$port) 2>/dev/null"
  done
  rm -rf "$REDIS_DIR"
}

# redis_tls_status: one line on how the stack's Redis is reached, checked, not assumed: TLS
# and the password get in, plain TCP and TLS without the password are refused.
redis_tls_status() {
  local port=$REDIS_PRIMARY_PORT
  if redis_plain_ping "$port"; then echo "redis tls: OFF (plain, no password: npm run env:up switches it)"; return 0; fi
  [[ -f "$TLS_CA" && -s "$REDIS_PASSWORD_FILE" ]] && redis_ping "$port" || return 0
  local nopass; nopass="$(redis-cli --tls --cacert "$TLS_CA" -h "$HOST" -p "$port" ping 2>&1 || true)"
  if [[ "$nopass" == *NOAUTH* ]]; then
    echo "redis tls: on, password required (CA ${TLS_CA#"$ROOT/"}, password ${REDIS_PASSWORD_FILE#"$ROOT/"}); plain TCP refused"
  else
    echo "redis tls: on, but a client without the password was not refused ($nopass)"
  fi
}
