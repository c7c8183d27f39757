# Shared helpers for the project's scripts. Sourced, not run.
# Quiet by default: a step that has nothing to do prints nothing.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$ROOT/.local"            # ignored by git: pids, logs, data, env.json
RUN="$STATE/run"
LOGS="$STATE/logs"
mkdir -p "$RUN" "$LOGS"

# Tools downloaded or built once per machine live outside the clone, reused by every clone.
CACHE_HOME="${INVAL_FLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/inval-fleet}"

# Node from the pinned `node` package (see docs/decisions/0001-node-runtime.md).
export PATH="$ROOT/node_modules/.bin:$PATH"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}" CDK_DISABLE_CLI_TELEMETRY=true

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$(( $(now_ms) + limit * 1000 ))
  until "$@" >/dev/null 2>&1; do
    (( $(now_ms) < deadline )) || { say "timed out after ${limit}s waiting for $what"; return 1; }
    sleep 0.2
  done
}

# ensure_node_modules: `npm ci` when node_modules is missing or older than the lockfile.
ensure_node_modules() {
  local marker="$ROOT/node_modules/.package-lock.json"
  if [[ ! -f "$marker" || "$ROOT/package-lock.json" -nt "$marker" ]]; then
    say "installing Node packages (npm ci)..."
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >"$LOGS/npm-ci.log" 2>&1) \
      || { tail -20 "$LOGS/npm-ci.log" >&2; die "npm ci failed (log: $LOGS/npm-ci.log)"; }
  fi
  local v; v="$("$ROOT/node_modules/.bin/node" --version 2>/dev/null)" || die "node_modules/.bin/node missing: run npm ci"
  [[ "$v" == v24.* ]] || die "expected Node 24 from node_modules/.bin/node, got $v"
}

# ensure_apt_packages PKG...: installs Debian packages that are missing (needs root).
ensure_apt_packages() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  (( ${#missing[@]} == 0 )) && return 0
  say "installing Debian packages: ${missing[*]}..."
  local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } \
    >"$LOGS/apt.log" 2>&1 || { tail -20 "$LOGS/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
}

# pid_alive FILE: the pid in FILE is a live process.
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_started SECONDS DESCRIPTION PIDFILE COMMAND...: like wait_until, but gives up at once
# when the process in PIDFILE has exited (a crash should not cost the whole timeout).
wait_started() {
  local limit=$1 what=$2 pidfile=$3; shift 3
  local deadline=$(( $(now_ms) + limit * 1000 ))
  until "$@" >/dev/null 2>&1; do
    pid_alive "$pidfile" || { say "$what exited during start-up"; return 1; }
    (( $(now_ms) < deadline )) || { say "timed out after ${limit}s waiting for $what"; return 1; }
    sleep 0.2
  done
}
