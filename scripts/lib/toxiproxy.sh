#!/usr/bin/env bash
# Toxiproxy, the fault- and latency-injecting TCP proxy (github.com/Shopify/toxiproxy), built
# once per machine from the Go module proxy into the machine cache ($CACHE_HOME, never the
# repo), and started on demand. Used by the worker bench's round-trip baseline and by chaos
# drills through its HTTP API (src/local/toxiproxy-client.ts drives it).
#
#   bash scripts/lib/toxiproxy.sh install        # prints the server binary's path
#   bash scripts/lib/toxiproxy.sh start PORT     # API on 127.0.0.1:PORT; prints the pid
#   bash scripts/lib/toxiproxy.sh stop PORT      # stops the server started on PORT
#
# Needs Go (/usr/local/go/bin or on PATH). A server started here writes its pid to
# .local/run/toxiproxy-PORT.pid and its log to .local/logs/toxiproxy-PORT.log.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.12.0}"
TOXIPROXY_DIR="$CACHE_HOME/toxiproxy-$TOXIPROXY_VERSION"
TOXIPROXY_BIN="$TOXIPROXY_DIR/bin/toxiproxy-server"

# ensure_toxiproxy: builds the server once per machine and version; quiet when present.
ensure_toxiproxy() {
  [[ -x "$TOXIPROXY_BIN" ]] && return 0
  local go; go="$(command -v go || true)"
  [[ -n "$go" ]] || go=/usr/local/go/bin/go
  [[ -x "$go" ]] || die "Toxiproxy needs Go to build (not on PATH, not at /usr/local/go/bin/go)"
  say "building Toxiproxy $TOXIPROXY_VERSION into $TOXIPROXY_DIR (once per machine)..."
  mkdir -p "$TOXIPROXY_DIR/bin"
  # Its own GOPATH and build cache under the machine cache: nothing lands in the repo or ~/go.
  GOBIN="$TOXIPROXY_DIR/bin" GOPATH="$TOXIPROXY_DIR/gopath" GOCACHE="$TOXIPROXY_DIR/gocache" \
    GOFLAGS=-modcacherw "$go" install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" \
    >"$LOGS/toxiproxy-build.log" 2>&1 \
    || { tail -20 "$LOGS/toxiproxy-build.log" >&2; die "go install of Toxiproxy $TOXIPROXY_VERSION failed"; }
  mv "$TOXIPROXY_DIR/bin/server" "$TOXIPROXY_BIN"
  # The build caches are large and not needed to run it.
  rm -rf "$TOXIPROXY_DIR/gopath" "$TOXIPROXY_DIR/gocache"
}

toxiproxy_up() { curl -fsS "http://$HOST:$1/version" >/dev/null 2>&1; }

HOST=127.0.0.1
case "${1:-}" in
  install)
    ensure_toxiproxy
    printf '%s\n' "$TOXIPROXY_BIN"
    ;;
  start)
    port="${2:?usage: toxiproxy.sh start PORT}"
    ensure_toxiproxy
    pidfile="$RUN/toxiproxy-$port.pid"
    if toxiproxy_up "$port"; then
      pid_alive "$pidfile" || die "port $port answers, but not a Toxiproxy started here"
      cat "$pidfile"
      exit 0
    fi
    "$TOXIPROXY_BIN" -host "$HOST" -port "$port" >"$LOGS/toxiproxy-$port.log" 2>&1 &
    echo $! >"$pidfile"
    wait_started 10 "toxiproxy on :$port" "$pidfile" toxiproxy_up "$port"
    cat "$pidfile"
    ;;
  stop)
    port="${2:?usage: toxiproxy.sh stop PORT}"
    pidfile="$RUN/toxiproxy-$port.pid"
    if pid_alive "$pidfile"; then
      pid="$(cat "$pidfile")"
      kill "$pid"
      wait_until 10 "toxiproxy on :$port to stop" bash -c "! kill -0 $pid"
    fi
    rm -f "$pidfile"
    ;;
  *)
    die "usage: toxiproxy.sh install | start PORT | stop PORT"
    ;;
esac
