# LocalStack on the host, from a pinned virtual environment (no Docker). Sourced.
# Version and the full dependency pin set: localstack/requirements.lock.
# Why these settings: docs/decisions/0002-local-stack.md and ../shared/NOTES-LOCAL.md.

LOCALSTACK_LOCK="$ROOT/localstack/requirements.lock"
LOCALSTACK_PID="$RUN/localstack.pid"

localstack_venv() {
  local hash; hash="$(sha256sum "$LOCALSTACK_LOCK" | cut -c1-10)"
  printf '%s/localstack-4.14.0-py3.13-%s' "$CACHE_HOME" "$hash"
}

# find_python313: the first candidate that really runs Python 3.13 (a pyenv shim can exist on
# PATH and still refuse to run, so each one is asked for its version).
find_python313() {
  local c
  for c in "${PYTHON313:-}" "$HOME"/.pyenv/versions/3.13*/bin/python3.13 python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13; do
    [[ -n "$c" ]] || continue
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

# ensure_localstack_venv: creates the venv once per machine and lockfile; quiet when present.
ensure_localstack_venv() {
  local venv; venv="$(localstack_venv)"
  [[ -x "$venv/bin/python" && -f "$venv/.complete" ]] && return 0
  local py; py="$(find_python313)" || die "LocalStack 4.14 needs Python 3.13: install it (pyenv install 3.13) or set PYTHON313=/path/to/python3.13"
  say "creating the LocalStack virtual environment in $venv (once per machine, about a minute)..."
  rm -rf "$venv" && mkdir -p "$CACHE_HOME"
  { "$py" -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check --no-deps -r "$LOCALSTACK_LOCK"; } \
    >"$LOGS/localstack-install.log" 2>&1 || { tail -20 "$LOGS/localstack-install.log" >&2; die "LocalStack install failed"; }
  touch "$venv/.complete"
}

localstack_healthy() { curl -sf "http://$HOST:$LOCALSTACK_PORT/_localstack/health" | grep -q '"sqs": "\(available\|running\)"'; }

# localstack_up: starts LocalStack unless it already answers; sets LOCALSTACK_STARTED=1 when started.
localstack_up() {
  LOCALSTACK_STARTED=0
  localstack_healthy && return 0
  ensure_localstack_venv
  local venv; venv="$(localstack_venv)"
  mkdir -p "$STATE/localstack"
  setsid env \
    OVERRIDE_IN_DOCKER=0 GATEWAY_LISTEN="$HOST:$LOCALSTACK_PORT" LOCALSTACK_HOST="$HOST:$LOCALSTACK_PORT" \
    SQS_ENDPOINT_STRATEGY=path DNS_ADDRESS=0 SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1 \
    API_ENDPOINT=http://127.0.0.1:9 FILESYSTEM_ROOT="$STATE/localstack" \
    SERVICES=cloudformation,s3,sts,iam,ssm,sqs,sns,events,scheduler,cloudwatch,logs,kms \
    CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=1 SQS_DISABLE_CLOUDWATCH_METRICS=1 \
    "$venv/bin/python" -m localstack.runtime.main >"$LOGS/localstack.log" 2>&1 < /dev/null &
  echo $! >"$LOCALSTACK_PID"
  wait_started 90 "LocalStack on :$LOCALSTACK_PORT" "$LOCALSTACK_PID" localstack_healthy \
    || { tail -20 "$LOGS/localstack.log" >&2; die "LocalStack did not start (log: $LOGS/localstack.log)"; }
  LOCALSTACK_STARTED=1
}

localstack_down() {
  if pid_alive "$LOCALSTACK_PID"; then
    local pid; pid="$(cat "$LOCALSTACK_PID")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    wait_until 20 "LocalStack to stop" bash -c "! kill -0 $pid" || kill -KILL -- "-$pid" 2>/dev/null
  fi
  rm -f "$LOCALSTACK_PID"
  # A LocalStack we did not start (no pid file) is left alone, but reported by status.
}
