#!/bin/sh
# bench/imap.sh: IMAP benchmark, estafeta against Dovecot's imapd, run at the end of bench/run.sh
# (and so by `make bench`); it also runs alone.
#
# Two mailboxes are delivered to a private estafeta instance over SMTP (bench/smtp-load):
# big@bench.test with BENCH_IMAP_MESSAGES messages (100,000 by default) and mix@bench.test with
# 1,000, all of about 4 KiB; then copied message by message (over POP3, bench/pop3-load.py
# export) into Maildirs for a private Dovecot, so both serve the very same messages. Each server
# then gets, from bench/imap-load.py on 127.0.0.1:
#   - SELECT + UID FETCH 1:* (UID FLAGS) on the big mailbox, cold and warm;
#   - SEARCH TEXT for a string one message holds, on the big mailbox, cold and warm;
#   - a mixed load of BENCH_IMAP_CLIENTS sessions (16) for BENCH_IMAP_SECONDS (20) on the small
#     mailbox: SELECT, FETCH, STORE, SEARCH, APPEND and EXPUNGE; operations/s and latencies;
#   - memory per idle connection: BENCH_IMAP_IDLE sessions (10,000) in IDLE at once, the
#     servers' PSS (every process) before and with them.
# Dovecot is private as in bench/pop3.sh (own config, base_dir, passwd-file with the same
# yescrypt hash, Maildir), with its limits raised for 10,000 connections and its usual
# high-performance settings for many clients (imap-login service_count = 0, several imap
# clients per process would change its memory model, so imap keeps one process per client,
# Dovecot's default and advice).
#
# Runs as root. Environment: BENCH_IMAP_MESSAGES (100000), BENCH_IMAP_CLIENTS (16),
#   BENCH_IMAP_SECONDS (20), BENCH_IMAP_IDLE (10000), BENCH_IMAP_PORT_BASE (23000: estafeta IMAP
#   on base + 143), BENCH_DOVECOT_IMAP_PORT (23144), BENCH_BUILD (build).
set -eu

cd "$(dirname "$0")/.."
TOP=$(pwd)
MESSAGES=${BENCH_IMAP_MESSAGES:-100000}
CLIENTS=${BENCH_IMAP_CLIENTS:-16}
SECONDS_MIXED=${BENCH_IMAP_SECONDS:-20}
IDLE=${BENCH_IMAP_IDLE:-10000}
PORT_BASE=${BENCH_IMAP_PORT_BASE:-23000}
DOVECOT_PORT=${BENCH_DOVECOT_IMAP_PORT:-23144}
BUILD_DIR=${BENCH_BUILD:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$TOP/$BUILD_DIR ;; esac
ESTAFETA=$BUILD_DIR/estafeta
WORK=$BUILD_DIR/bench/imap
LOAD=$BUILD_DIR/bench/smtp-load
CLIENT="/usr/bin/python3 $TOP/bench/imap-load.py"
EXPORT="/usr/bin/python3 $TOP/bench/pop3-load.py export"
BIG=big@bench.test
MIX=mix@bench.test
PASSWORD=bench-imap-password
EST=$WORK/estafeta
EST_CONF=$EST/estafeta.conf
DC=$WORK/dovecot
EST_IMAP=$((PORT_BASE + 143))
# smtp-load's subjects are "Benchmark message N from connection C": one message has this.
NEEDLE="message 4242 from"

say() { printf '%s\n' "bench imap: $*"; }
fail() { printf '%s\n' "bench imap: error: $*" >&2; exit 1; }

for n in "$MESSAGES" "$CLIENTS" "$SECONDS_MIXED" "$IDLE" "$PORT_BASE" "$DOVECOT_PORT"; do
	case $n in ''|*[!0-9]*) fail "BENCH_IMAP_* settings must be whole numbers, got '$n'" ;; esac
done
[ "$MESSAGES" -gt 4242 ] || fail "BENCH_IMAP_MESSAGES must be above 4242 (the searched message)"
[ "$(id -u)" -eq 0 ] || fail "run as root: Dovecot starts as root and drops privileges"
[ -x "$ESTAFETA" ] || fail "$ESTAFETA is missing; run 'make all' first"
[ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] ||
	fail "Dovecot's IMAP server is not installed; run 'make deps-bench' first"
# 10,000 sessions: a socket each on both sides, and Dovecot's process per session.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

. "$TOP/bench/lib.sh"
trap stop_servers EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK"
build_load

# measure NAME PORT PIDS: runs the four measurements against one server; sets NAME_big,
# NAME_mixed and NAME_idle to their result lines.
measure() {
	say "$1: SELECT + FETCH and SEARCH TEXT on $MESSAGES messages"
	r=$($CLIENT big 127.0.0.1 "$2" "$BIG" "$PASSWORD" "$NEEDLE" | sed -n 's/^result //p')
	[ "$(field messages "$r")" -eq "$MESSAGES" ] || fail "$1's big mailbox holds $(field messages "$r") messages"
	say "$1: $r"
	eval "$1_big=\$r"
	say "$1: mixed load, $CLIENTS clients for ${SECONDS_MIXED}s"
	r=$($CLIENT mixed 127.0.0.1 "$2" "$MIX" "$PASSWORD" "$CLIENTS" "$SECONDS_MIXED" | sed -n 's/^result //p')
	say "$1: $r"
	eval "$1_mixed=\$r"
	say "$1: $IDLE connections in IDLE"
	r=$($CLIENT idle 127.0.0.1 "$2" "$MIX" "$PASSWORD" "$IDLE" "$3" | sed -n 's/^result //p')
	say "$1: $r"
	eval "$1_idle=\$r"
}

# ---- estafeta: the mailboxes, delivered over SMTP ----
port_listening "$EST_IMAP" && fail "port $EST_IMAP is already in use"
say "estafeta: creating a private instance in $EST and delivering $MESSAGES + 1000 messages"
rm -rf "$EST"
"$ESTAFETA" init "$EST" --domain bench.test --hostname mx.bench.test --port-base "$PORT_BASE" \
	>"$WORK/estafeta-init.log" 2>&1 || { cat "$WORK/estafeta-init.log" >&2; fail "estafeta init failed"; }
for u in "$BIG" "$MIX"; do
	printf '%s\n' "$PASSWORD" | "$ESTAFETA" -c "$EST_CONF" user add "$u" --password-stdin
done
for s in imap.max_connections imap.max_connections_per_ip; do
	"$ESTAFETA" -c "$EST_CONF" config set "$s" $((IDLE + 100))
done
# The load logs in to one account from one address, up to 64 logins at once: each counts as a
# failure until it succeeds, so past auth.max_failures_per_ip_account the rest would be refused.
# A load generator is trusted, as a webmail host would be.
"$ESTAFETA" -c "$EST_CONF" config set auth.trusted_networks 127.0.0.0/8
"$ESTAFETA" -c "$EST_CONF" serve >"$EST/serve.log" 2>&1 &
estafeta_pid=$!
wait_port "$EST_IMAP" || { tail -n 20 "$EST/serve.log" >&2; fail "estafeta did not listen"; }
"$LOAD" -q -c 4 -n "$MESSAGES" -s 4096 "127.0.0.1:$((PORT_BASE + 25))" "$BIG" \
	>"$WORK/smtp-load-big.log" 2>&1 || { tail -n 5 "$WORK/smtp-load-big.log" >&2; fail "delivery failed"; }
"$LOAD" -q -c 4 -n 1000 -s 4096 "127.0.0.1:$((PORT_BASE + 25))" "$MIX" \
	>"$WORK/smtp-load-mix.log" 2>&1 || { tail -n 5 "$WORK/smtp-load-mix.log" >&2; fail "delivery failed"; }
delivered_at=$(date +%s)

say "Dovecot: copying the mailboxes into $DC/mail"
rm -rf "$DC"
mkdir -p "$DC/run" "$DC/state" "$DC/home"
for u in "$BIG" "$MIX"; do
	$EXPORT 127.0.0.1 $((PORT_BASE + 110)) "$u" "$PASSWORD" "$DC/mail/$u/Maildir" >/dev/null
done
# estafeta indexes text at delivery, on a low-priority thread that waits out bursts of mail;
# the measurements are of a settled server, so wait for it (and say how long it took).
unindexed() {
	/usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
print(db.execute("SELECT count(*) FROM bodies WHERE indexed = 0").fetchone()[0])' "$EST/data/estafeta.db"
}
while [ "$(unindexed)" -gt 0 ] && [ $(($(date +%s) - delivered_at)) -lt 1800 ]; do sleep 2; done
say "estafeta: text index complete $(($(date +%s) - delivered_at)) s after the last delivery" \
	"($(unindexed) messages left)"
measure estafeta "$EST_IMAP" "$estafeta_pid"
kill "$estafeta_pid"; wait "$estafeta_pid" 2>/dev/null || true; estafeta_pid=""

# ---- Dovecot: the same messages in Maildirs ----
port_listening "$DOVECOT_PORT" && fail "port $DOVECOT_PORT is already in use"
chown -R nobody:nogroup "$DC/mail" "$DC/home"
chmod 755 "$DC"
# The same yescrypt hash estafeta checks, so both spend the same time on the password.
/usr/bin/python3 -c 'import sqlite3, sys
for a, h in sqlite3.connect(sys.argv[1]).execute("SELECT address, password_hash FROM accounts"):
    print("%s:{CRYPT}%s" % (a, h))' "$EST/data/estafeta.db" >"$DC/passwd"
limit=$((IDLE + 100))
cat >"$DC/dovecot.conf" <<EOF
# Private Dovecot for bench/imap.sh.
base_dir = $DC/run
state_dir = $DC/state
log_path = $DC/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:$DC/mail/%u/Maildir
first_valid_uid = 1
mail_max_userip_connections = $limit
default_process_limit = $limit
default_client_limit = $limit
default_vsz_limit = 0
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u $DC/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DC/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_PORT
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = $(nproc)
}
service imap {
  process_limit = $limit
}
service anvil {
  client_limit = $((limit * 3))
}
EOF
/usr/sbin/dovecot -c "$DC/dovecot.conf" || { tail -n 20 "$DC/dovecot.log" >&2; fail "Dovecot did not start"; }
dovecot_conf=$DC/dovecot.conf
wait_port "$DOVECOT_PORT" || { tail -n 20 "$DC/dovecot.log" >&2; fail "Dovecot did not listen"; }
measure dovecot "$DOVECOT_PORT" "$(cat "$DC/run/master.pid")"
dovecot_config=$(doveconf -c "$DC/dovecot.conf" -n 2>/dev/null)
doveadm -c "$DC/dovecot.conf" stop
dovecot_conf=""

# ---- report ----
echo
echo "IMAP: a mailbox of $MESSAGES messages and one of 1,000, of about 4 KiB, on 127.0.0.1"
echo "machine: $(nproc) CPUs, $(uname -sr)"
echo
printf '%-10s %9s %9s %9s %9s %6s %9s %8s %8s %9s %8s\n' server "sel+f cold" "sel+f ms" \
	"srch cold" "search ms" found "mixed op/s" "p50 ms" "p99 ms" "idle KiB" "idle ok"
row() {
	printf '%-10s %9s %9s %9s %9s %6s %9s %8s %8s %9s %8s\n' "$1" \
		"$(field select_fetch_cold_ms "$2")" "$(field select_fetch_ms "$2")" \
		"$(field search_cold_ms "$2")" "$(field search_ms "$2")" "$(field found "$2")" \
		"$(field ops_s "$3")" "$(field p50_ms "$3")" "$(field p99_ms "$3")" \
		"$(field per_conn_kib "$4")" "$(field connections "$4")"
}
row estafeta "$estafeta_big" "$estafeta_mixed" "$estafeta_idle"
row Dovecot "$dovecot_big" "$dovecot_mixed" "$dovecot_idle"
cat <<EOF

sel+f: connect, LOGIN, SELECT INBOX and UID FETCH 1:* (UID FLAGS) on the big mailbox, in ms;
  cold is the first time (Dovecot builds its index then), then the median of 3.
srch: SEARCH TEXT "$NEEDLE" on the big mailbox (one message holds that string), in ms, and
  how many messages each server found; Dovecot runs without a full-text search plugin, as it
  is installed.
mixed: $CLIENTS sessions for ${SECONDS_MIXED}s on the 1,000-message mailbox, each looping over SELECT, FETCH of 10
  messages, STORE, SEARCH, APPEND + STORE + UID EXPUNGE; operations per second and latencies.
idle: $IDLE sessions logged in, SELECT INBOX, IDLE; the increase of the servers' PSS (all
  their processes) divided by the sessions, in KiB; "idle ok" how many sessions got there.
EOF
echo "raw: estafeta $estafeta_mixed $estafeta_idle"
echo "raw: Dovecot $dovecot_mixed $dovecot_idle"
echo
echo "== estafeta configuration ($("$ESTAFETA" -c "$EST_CONF" config list --changed | tr '\n' ' '))"
echo "== Dovecot $(dovecot --version) configuration (doveconf -n) =="
printf '%s\n' "$dovecot_config"
echo
echo "Logs and raw output: $WORK"
