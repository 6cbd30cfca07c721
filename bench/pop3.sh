#!/bin/sh
# bench/pop3.sh: POP3 benchmark, estafeta against Dovecot's pop3d, run at the end of bench/run.sh
# (and so by `make bench`); it also runs alone.
#
# One maildrop of BENCH_POP3_MESSAGES messages (10,000 by default) of BENCH_POP3_SIZE bytes is
# delivered to a private estafeta instance (SMTP, with bench/smtp-load), then copied message by
# message over POP3 into a Maildir for a private Dovecot, so both serve the very same messages.
# Each server then gets, from bench/pop3-load.py on 127.0.0.1:
#   - login+STAT+UIDL: connect, USER/PASS, STAT, UIDL of the whole maildrop; the first time
#     (cold: Dovecot builds its index then) and the median of 5 more;
#   - RETR throughput: one session retrieving every message, 32 commands in flight (PIPELINING).
# Dovecot runs twice: with its defaults, and with its high-performance login processes
# (service pop3-login { service_count = 0 }, process_min_avail). Dovecot is private: its own
# config file, base_dir, state_dir and log under $BENCH_BUILD/bench/pop3/dovecot, a passwd-file
# passdb (with the user's yescrypt hash copied from estafeta), a static userdb and a Maildir
# there; the system's Dovecot is never touched.
#
# Runs as root (Dovecot starts as root and drops to its users; so does estafeta).
# Environment: BENCH_POP3_MESSAGES (10000), BENCH_POP3_SIZE (4096), BENCH_POP3_PORT_BASE (22000:
#   estafeta POP3 on base + 110), BENCH_DOVECOT_PORT (22111), BENCH_BUILD (build).
set -eu

cd "$(dirname "$0")/.."
TOP=$(pwd)
MESSAGES=${BENCH_POP3_MESSAGES:-10000}
SIZE=${BENCH_POP3_SIZE:-4096}
PORT_BASE=${BENCH_POP3_PORT_BASE:-22000}
DOVECOT_PORT=${BENCH_DOVECOT_PORT:-22111}
BUILD_DIR=${BENCH_BUILD:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$TOP/$BUILD_DIR ;; esac
ESTAFETA=$BUILD_DIR/estafeta
WORK=$BUILD_DIR/bench/pop3
LOAD=$BUILD_DIR/bench/smtp-load
CLIENT="/usr/bin/python3 $TOP/bench/pop3-load.py"
USER_ADDR=pop@bench.test
PASSWORD=bench-pop-password
EST=$WORK/estafeta
EST_CONF=$EST/estafeta.conf
DC=$WORK/dovecot
EST_POP3=$((PORT_BASE + 110))

say() { printf '%s\n' "bench pop3: $*"; }
fail() { printf '%s\n' "bench pop3: error: $*" >&2; exit 1; }

for n in "$MESSAGES" "$SIZE" "$PORT_BASE" "$DOVECOT_PORT"; do
	case $n in ''|*[!0-9]*) fail "BENCH_POP3_* settings must be whole numbers, got '$n'" ;; esac
done
[ "$(id -u)" -eq 0 ] || fail "run as root: Dovecot starts as root and drops privileges"
[ -x "$ESTAFETA" ] || fail "$ESTAFETA is missing; run 'make all' first"
[ -x /usr/sbin/dovecot ] || fail "Dovecot is not installed; run 'make deps-bench' first"

. "$TOP/bench/lib.sh"
trap stop_servers EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK"
build_load

# ---- estafeta: the maildrop, delivered over SMTP ----
port_listening "$EST_POP3" && fail "port $EST_POP3 is already in use"
say "estafeta: creating a private instance in $EST and delivering $MESSAGES messages"
rm -rf "$EST"
"$ESTAFETA" init "$EST" --domain bench.test --hostname mx.bench.test --port-base "$PORT_BASE" \
	>"$WORK/estafeta-init.log" 2>&1 || { cat "$WORK/estafeta-init.log" >&2; fail "estafeta init failed"; }
printf '%s\n' "$PASSWORD" | "$ESTAFETA" -c "$EST_CONF" user add "$USER_ADDR" --password-stdin
"$ESTAFETA" -c "$EST_CONF" serve >"$EST/serve.log" 2>&1 &
estafeta_pid=$!
wait_port "$EST_POP3" || { tail -n 20 "$EST/serve.log" >&2; fail "estafeta did not listen"; }
"$LOAD" -q -c 4 -n "$MESSAGES" -s "$SIZE" "127.0.0.1:$((PORT_BASE + 25))" "$USER_ADDR" \
	>"$WORK/smtp-load.log" 2>&1 || { tail -n 5 "$WORK/smtp-load.log" >&2; fail "delivery failed"; }

say "estafeta: measuring"
est=$($CLIENT measure 127.0.0.1 "$EST_POP3" "$USER_ADDR" "$PASSWORD" | sed -n 's/^result //p')
[ "$(field messages "$est")" -eq "$MESSAGES" ] || fail "estafeta's maildrop holds $(field messages "$est") messages"

# ---- Dovecot: the same messages in a Maildir ----
port_listening "$DOVECOT_PORT" && fail "port $DOVECOT_PORT is already in use"
say "Dovecot: copying the maildrop into $DC/mail"
rm -rf "$DC"
mkdir -p "$DC/run" "$DC/state" "$DC/home"
$CLIENT export 127.0.0.1 "$EST_POP3" "$USER_ADDR" "$PASSWORD" "$DC/mail/$USER_ADDR/Maildir" >/dev/null
kill "$estafeta_pid"; wait "$estafeta_pid" 2>/dev/null || true; estafeta_pid=""
chown -R nobody:nogroup "$DC/mail" "$DC/home"
chmod 755 "$DC"
# The same yescrypt hash estafeta checks, so both spend the same time on the password.
hash=$(/usr/bin/python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT password_hash FROM accounts").fetchone()[0])' \
	"$EST/data/estafeta.db")
printf '%s:{CRYPT}%s\n' "$USER_ADDR" "$hash" >"$DC/passwd"

# write_dovecot_config MODE: "default" or "fast" (high-performance login processes).
write_dovecot_config() {
	cat >"$DC/dovecot.conf" <<EOF
# Private Dovecot for bench/pop3.sh ($1 settings).
base_dir = $DC/run
state_dir = $DC/state
log_path = $DC/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:$DC/mail/%u/Maildir
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u $DC/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DC/home/%u
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DOVECOT_PORT
  }
  inet_listener pop3s {
    port = 0
  }
EOF
	if [ "$1" = fast ]; then
		cat >>"$DC/dovecot.conf" <<EOF
  service_count = 0
  process_min_avail = $(nproc)
EOF
	fi
	echo "}" >>"$DC/dovecot.conf"
}

# bench_dovecot MODE: sets dovecot_MODE to its result line.
bench_dovecot() {
	write_dovecot_config "$1"
	rm -rf "$DC/mail/$USER_ADDR/Maildir"/dovecot* "$DC/run"/* # a cold index for each run
	/usr/sbin/dovecot -c "$DC/dovecot.conf" || { tail -n 20 "$DC/dovecot.log" >&2; fail "Dovecot did not start"; }
	dovecot_conf=$DC/dovecot.conf
	wait_port "$DOVECOT_PORT" || { tail -n 20 "$DC/dovecot.log" >&2; fail "Dovecot did not listen"; }
	say "Dovecot ($1 settings): measuring"
	r=$($CLIENT measure 127.0.0.1 "$DOVECOT_PORT" "$USER_ADDR" "$PASSWORD" | sed -n 's/^result //p')
	eval "dovecot_$1=\$r"
	eval "dovecot_config_$1=\$(doveconf -c \"\$DC/dovecot.conf\" -n 2>/dev/null)"
	doveadm -c "$DC/dovecot.conf" stop
	dovecot_conf=""
	i=0
	while port_listening "$DOVECOT_PORT" && [ "$i" -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
}
bench_dovecot default
bench_dovecot fast

# ---- report ----
echo
echo "POP3: one maildrop of $MESSAGES messages of about $SIZE bytes ($(field octets "$est") octets" \
     "as sent), on 127.0.0.1"
echo "machine: $(nproc) CPUs, $(uname -sr)"
echo
printf '%-22s %10s %10s %10s %10s %10s\n' server "login cold" "login ms" "RETR s" "RETR MB/s" "msgs/s"
row() {
	printf '%-22s %10s %10s %10s %10s %10s\n' "$1" "$(field login_cold_ms "$2")" \
		"$(field login_ms "$2")" "$(field retr_s "$2")" "$(field mb_s "$2")" "$(field msg_s "$2")"
}
row estafeta "$est"
row "Dovecot (defaults)" "$dovecot_default"
row "Dovecot (fast login)" "$dovecot_fast"
cat <<'EOF'

login cold / login ms: connect, USER/PASS, STAT and UIDL of the whole maildrop, in milliseconds;
  cold is the first login (Dovecot builds its index then), "login ms" the median of 5 more.
RETR s / MB/s / msgs/s: one session retrieving every message with 32 RETR commands in flight,
  from the first RETR to the last byte; MB/s counts the octets received (10^6 bytes).
EOF
echo
echo "== estafeta configuration ($("$ESTAFETA" -c "$EST_CONF" config list --changed | tr '\n' ' '))"
echo "== Dovecot $(dovecot --version) configuration, defaults (doveconf -n) =="
printf '%s\n' "$dovecot_config_default"
echo "== Dovecot configuration, fast login (doveconf -n) =="
printf '%s\n' "$dovecot_config_fast"
echo
echo "Logs and raw output: $WORK"
