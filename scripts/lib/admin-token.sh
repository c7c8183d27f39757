# The local admin token (issue 14, docs/decisions/0015-admin-surface.md): every admin route of
# the workers and the demo readers, except /healthz and /readyz, needs `Authorization: Bearer`
# with it. Sourced by env.sh. Written once: 64 hex characters (256 bits from /dev/urandom),
# mode 0600, in .local/ (ignored by git). `env.sh down` leaves it, so the token stays the
# same across restarts of the stack.

ADMIN_TOKEN_PATH="$STATE/admin-token"

# admin_token_up: writes the token file if it is missing or malformed; fixes its mode.
admin_token_up() {
  if [[ ! -f "$ADMIN_TOKEN_PATH" ]] || ! grep -qxE '[0-9a-f]{64}' "$ADMIN_TOKEN_PATH"; then
    local tmp="$ADMIN_TOKEN_PATH.tmp.$$"
    ( umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$tmp" && echo >>"$tmp" ) \
      || die "could not write the admin token to $ADMIN_TOKEN_PATH"
    mv -f "$tmp" "$ADMIN_TOKEN_PATH"
  fi
  chmod 600 "$ADMIN_TOKEN_PATH"
}
