#!/usr/bin/env bash
# The local stack: LocalStack (SNS, SQS, CloudFormation...), Redis primary + replica +
# three Sentinels, a 6-node Redis cluster, the messaging topology deployed from the CDK
# construct, and the origin simulator. Redis serves TLS only and requires a password, as
# ElastiCache does (a CA, certificate and password made in .local/ by scripts/lib/tls.sh).
#   env.sh up [--profile fast|elasticache]
#                          start what is not running (idempotent, quiet when all is up);
#                          the Redis Sentinels' failover timings (default: $REDIS_PROFILE,
#                          else fast) are applied to running Sentinels too (scripts/lib/redis.sh)
#   env.sh down            stop everything the stack runs; no process remains
#   env.sh status [--json] say what runs, and whether Redis refuses plain and password-less
#                          clients; --json prints the endpoints (.local/env.json)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$ROOT/scripts/lib/ports.sh"
source "$ROOT/scripts/lib/localstack.sh"
source "$ROOT/scripts/lib/tls.sh"
source "$ROOT/scripts/lib/redis.sh"
source "$ROOT/scripts/lib/admin-token.sh"

ENV_FILE="$STATE/env.json"
ORIGIN_PID="$RUN/origin-sim.pid"
MESSAGING_STAMP="$STATE/messaging.stamp"

origin_healthy() { curl -sf "http://$HOST:$ORIGIN_PORT/healthz" >/dev/null; }

# The messaging stack is redeployed when LocalStack is new or its definition changed.
messaging_fingerprint() { cat "$ROOT"/infra/lib/messaging/*.ts "$ROOT/scripts/lib/provision-messaging.ts" | sha256sum | cut -c1-16; }

messaging_up() {
  local want; want="$(messaging_fingerprint)-$(cat "$LOCALSTACK_PID" 2>/dev/null || echo external)"
  # An env.json without the Redis credentials predates the TLS switch: written again.
  [[ "$LOCALSTACK_STARTED" == 0 && -f "$ENV_FILE" && "$(cat "$MESSAGING_STAMP" 2>/dev/null)" == "$want" ]] \
    && grep -q '"passwordFile"' "$ENV_FILE" && return 0
  HOST="$HOST" LOCALSTACK_PORT="$LOCALSTACK_PORT" REDIS_PRIMARY_PORT="$REDIS_PRIMARY_PORT" \
    REDIS_REPLICA_PORT="$REDIS_REPLICA_PORT" SENTINEL_PORTS="${SENTINEL_PORTS[*]}" SENTINEL_NAME="$SENTINEL_NAME" \
    CLUSTER_PORTS="${CLUSTER_PORTS[*]}" ORIGIN_PORT="$ORIGIN_PORT" ENV_FILE="$ENV_FILE" \
    REDIS_TLS_CA_FILE="$TLS_CA" REDIS_PASSWORD_FILE="$REDIS_PASSWORD_FILE" \
    node "$ROOT/scripts/lib/provision-messaging.ts" || die "deploying the messaging stack to LocalStack failed"
  echo "$want" >"$MESSAGING_STAMP"
  # The simulator publishes to these topics: restart it so it reads the new ones.
  origin_down
}

origin_up() {
  origin_healthy && return 0
  setsid node "$ROOT/src/origin-sim/main.ts" --port "$ORIGIN_PORT" --host "$HOST" --env-file "$ENV_FILE" \
    >"$LOGS/origin-sim.log" 2>&1 </dev/null &
  echo $! >"$ORIGIN_PID"
  wait_started 20 "the origin simulator on :$ORIGIN_PORT" "$ORIGIN_PID" origin_healthy \
    || { tail -20 "$LOGS/origin-sim.log" >&2; die "origin simulator did not start"; }
}

origin_down() {
  if pid_alive "$ORIGIN_PID"; then
    local pid; pid="$(cat "$ORIGIN_PID")"
    kill -TERM "$pid" 2>/dev/null || true
    wait_until 10 "the origin simulator to stop" bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$ORIGIN_PID"
}

up() {
  local t0; t0=$(now_ms) profile="${REDIS_PROFILE:-fast}"
  while (( $# )); do
    case "$1" in
      --profile) profile="${2:-}"; shift 2 || die "--profile needs a value (fast | elasticache)" ;;
      --profile=*) profile="${1#--profile=}"; shift ;;
      *) die "usage: env.sh up [--profile fast|elasticache]" ;;
    esac
  done
  [[ "$profile" == fast || "$profile" == elasticache ]] || die "unknown Redis profile '$profile' (fast | elasticache)"
  ensure_node_modules
  admin_token_up
  localstack_up
  redis_up "$profile"
  messaging_up
  origin_up
  local took=$(( $(now_ms) - t0 ))
  (( took > 2000 )) && say "local stack up in $((took / 1000)).$(( (took % 1000) / 100 ))s (endpoints: .local/env.json)"
  return 0
}

down() {
  origin_down
  redis_down
  localstack_down
  rm -f "$MESSAGING_STAMP" "$ENV_FILE"
  local port leftover=()
  for port in "$LOCALSTACK_PORT" "$ORIGIN_PORT" "$REDIS_PRIMARY_PORT" "$REDIS_REPLICA_PORT" "${SENTINEL_PORTS[@]}" "${CLUSTER_PORTS[@]}"; do
    (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null && leftover+=("$port")
  done
  (( ${#leftover[@]} == 0 )) || die "still listening after down: ports ${leftover[*]} (not started by this stack?)"
  say "local stack stopped"
}

status() {
  local json=0 bad=0; [[ "${1:-}" == --json ]] && json=1
  local lines=()
  check() { if "${@:2}" >/dev/null 2>&1; then lines+=("up    $1"); else lines+=("DOWN  $1"); bad=1; fi; }
  check "localstack   http://$HOST:$LOCALSTACK_PORT" localstack_healthy
  check "redis        primary :$REDIS_PRIMARY_PORT" redis_ping "$REDIS_PRIMARY_PORT"
  check "redis        replica :$REDIS_REPLICA_PORT" redis_ping "$REDIS_REPLICA_PORT"
  local p; for p in "${SENTINEL_PORTS[@]}"; do check "sentinel     :$p" redis_ping "$p"; done
  check "cluster      :${CLUSTER_PORTS[0]}-${CLUSTER_PORTS[-1]}" cluster_ok
  check "origin-sim   http://$HOST:$ORIGIN_PORT" origin_healthy
  check "endpoints    $ENV_FILE" test -f "$ENV_FILE"
  if (( json )); then
    [[ -f "$ENV_FILE" ]] || die "no $ENV_FILE: run npm run env:up"
    local master; master="$(rcli "${SENTINEL_PORTS[0]}" sentinel get-master-addr-by-name "$SENTINEL_NAME" 2>/dev/null | paste -sd: || true)"
    local profile; profile="$(redis_profile_status | awk '{print $3}')"
    local secured=false; [[ "$(redis_tls_status)" == "redis tls: on, password required"* ]] && secured=true
    node -e 'const e=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); e.healthy=process.argv[2]==="0"; e.redis.currentPrimary=process.argv[3]||null; e.redis.profile=process.argv[4]||null; e.redis.tlsAndPasswordRequired=process.argv[5]==="true"; console.log(JSON.stringify(e,null,2))' \
      "$ENV_FILE" "$bad" "$master" "$profile" "$secured"
  else
    printf '%s\n' "${lines[@]}"
    local master; master="$(rcli "${SENTINEL_PORTS[0]}" sentinel get-master-addr-by-name "$SENTINEL_NAME" 2>/dev/null | paste -sd: || true)"
    [[ -n "$master" ]] && printf 'current primary (per Sentinel): %s\n' "$master"
    redis_profile_status
    redis_tls_status
  fi
  return $bad
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  status) shift; status "$@" ;;
  *) die "usage: env.sh up [--profile fast|elasticache] | down | status [--json]" ;;
esac
