# The local Redis's credentials, as ElastiCache's in-transit encryption + AUTH token: a CA
# and one server certificate (SAN IP:127.0.0.1, localhost) that every Redis process of the
# stack and of the tests presents, and one password (requirepass, masterauth, Sentinel
# auth-pass). Made once with openssl, kept in .local/ (docs/decisions/0017-local-redis-tls.md).
# Sourced; quiet when everything is present and valid.

TLS_DIR="$STATE/tls"
TLS_CA="$TLS_DIR/ca.crt"
TLS_CERT="$TLS_DIR/redis.crt"
TLS_KEY="$TLS_DIR/redis.key"
REDIS_PASSWORD_FILE="$STATE/redis-password"

# tls_valid: the three files exist, the certificate chains to the CA and is good for 30 days.
tls_valid() {
  [[ -s "$TLS_CA" && -s "$TLS_CERT" && -s "$TLS_KEY" ]] || return 1
  openssl verify -CAfile "$TLS_CA" "$TLS_CERT" >/dev/null 2>&1 || return 1
  openssl x509 -in "$TLS_CERT" -noout -checkend $(( 30 * 86400 )) >/dev/null 2>&1
}

# tls_make: a fresh CA (its key is deleted once the server certificate is signed: nothing
# else can be issued under it) and the server certificate, EC P-256.
tls_make() {
  local tmp; tmp="$(mktemp -d "$STATE/tls.XXXXXX")"
  (
    set -e
    cd "$tmp"
    umask 077
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -days 3650 \
      -keyout ca.key -out ca.crt -subj "/CN=inval-fleet local Redis CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 \
      -keyout redis.key -out redis.csr -subj "/CN=127.0.0.1"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >ext.cnf
    openssl x509 -req -in redis.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 825 \
      -extfile ext.cnf -out redis.crt
    chmod 644 ca.crt redis.crt
  ) >"$LOGS/tls.log" 2>&1 || { rm -rf "$tmp"; tail -20 "$LOGS/tls.log" >&2; die "making the local Redis certificates failed (log: $LOGS/tls.log)"; }
  mkdir -p "$TLS_DIR"
  mv "$tmp/ca.crt" "$TLS_CA"; mv "$tmp/redis.key" "$TLS_KEY"; mv "$tmp/redis.crt" "$TLS_CERT"
  rm -rf "$tmp"
}

# tls_up: the certificates and the password, made when missing or invalid. Prints a line
# only when it made something.
tls_up() {
  command -v openssl >/dev/null || ensure_apt_packages openssl
  if ! tls_valid; then
    tls_make
    say "redis tls: made a local CA and server certificate in ${TLS_DIR#"$ROOT/"}/"
  fi
  if [[ ! -s "$REDIS_PASSWORD_FILE" ]]; then
    (umask 077; openssl rand -hex 32 >"$REDIS_PASSWORD_FILE")
  fi
  chmod 600 "$REDIS_PASSWORD_FILE" "$TLS_KEY"
}

# The password, for redis-cli's REDISCLI_AUTH (never on a command line: ps would show it).
redis_password() { cat "$REDIS_PASSWORD_FILE"; }
