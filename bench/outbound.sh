#!/bin/sh
# bench/outbound.sh: outbound delivery, estafeta's queue runner and SMTP client against
# Postfix's qmgr and smtp client, called by bench/run.sh (`make bench`).
#
# Both deliver the same BENCH_OUT_MESSAGES (10,000) messages of BENCH_SIZE (4096) bytes to 10
# domains, d0.bench .. d9.bench, each served by its own Postfix smtp-sink on 127.0.0.(20+N).
# What is timed is the delivery of a full queue: the messages are queued first while nothing
# can leave (estafeta: the sinks are not up yet, so every message is deferred once; Postfix:
# defer_transports = smtp), then released at once (estafeta queue flush; postqueue -f) and the
# clock runs until the queue is empty.
#   - estafeta: routes by MX through a private dnsmasq on 127.0.0.54 (d<N>.bench MX ->
#     127.0.0.(20+N)), outbound.port = the sinks' port, outbound.max_connections_per_domain
#     at its default (10). Messages enter through port 25 to aliases r<N>@bench.local ->
#     u<N>@d<N>.bench.
#   - Postfix: a private instance (own config, queue and data directories, never the
#     system's), defaults everywhere (default_destination_concurrency_limit 20) except
#     transport_maps sending d<N>.bench to smtp:[127.0.0.(20+N)]:port, since Postfix reads
#     /etc/resolv.conf and cannot be pointed at a DNS server on another port.
# Runs as root (Postfix and smtp-sink need it). Tunables: BENCH_OUT_MESSAGES, BENCH_SIZE,
# BENCH_BUILD (build), BENCH_OUT_PORT_BASE (24000: estafeta = base+25, Postfix smtpd = base+525,
# sinks = base+700, dnsmasq = base+53).
set -eu

cd "$(dirname "$0")/.."
TOP=$(pwd)
MESSAGES=${BENCH_OUT_MESSAGES:-10000}
SIZE=${BENCH_SIZE:-4096}
BASE=${BENCH_OUT_PORT_BASE:-24000}
BUILD_DIR=${BENCH_BUILD:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$TOP/$BUILD_DIR ;; esac
ESTAFETA=$BUILD_DIR/estafeta
WORK=$BUILD_DIR/bench/outbound
EST=$WORK/estafeta
PF=$WORK/postfix
DOMAINS="0 1 2 3 4 5 6 7 8 9"
PER_DOMAIN=$((MESSAGES / 10))
SINK_PORT=$((BASE + 700))
DNS_IP=127.0.0.54
DNS_PORT=$((BASE + 53))
PF_PORT=$((BASE + 525))
TIMEOUT=${BENCH_OUT_TIMEOUT:-600}

say() { printf '%s\n' "bench-outbound: $*"; }
fail() { printf '%s\n' "bench-outbound: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root: Postfix and smtp-sink need it"
command -v postfix >/dev/null || fail "Postfix is not installed; run 'make deps-bench' first"
[ -x /usr/sbin/dnsmasq ] || fail "dnsmasq is not installed; run 'scripts/install-deps.sh test'"
[ -x "$ESTAFETA" ] || fail "no estafeta binary at $ESTAFETA; run make first"

pids=""
est_pid=""
pf_started=0
cleanup() {
	[ -z "$est_pid" ] || { kill "$est_pid" 2>/dev/null || true; wait "$est_pid" 2>/dev/null || true; }
	if [ "$pf_started" -eq 1 ]; then postfix -c "$PF/conf" stop >/dev/null 2>&1 || true; fi
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Waits until the command's output is $2 (checked every 0.2 s) or TIMEOUT seconds pass.
wait_until() {
	i=0
	while [ "$(sh -c "$1")" != "$2" ]; do
		i=$((i + 1))
		[ $i -lt $((TIMEOUT * 5)) ] || return 1
		sleep 0.2
	done
}

rm -rf "$WORK"
mkdir -p "$WORK"

# ---- DNS for estafeta ----
set --
for n in $DOMAINS; do
	set -- "$@" "--mx-host=d$n.bench,mx.d$n.bench,10" "--host-record=mx.d$n.bench,127.0.0.$((20 + n))"
done
/usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --pid-file= \
	--bind-interfaces --listen-address=$DNS_IP --port=$DNS_PORT --user=root --local=/bench/ \
	--log-facility="$WORK/dnsmasq.log" "$@" &
pids="$pids $!"

start_sinks() {
	for n in $DOMAINS; do
		smtp-sink -u nobody "127.0.0.$((20 + n)):$SINK_PORT" 256 >/dev/null 2>&1 &
		pids="$pids $!"
	done
	sleep 0.5
}

# smtp-source: 20 connections, MESSAGES/10 per domain, SIZE bytes, to recipient $2 at $1.
inject() {
	smtp-source -s 20 -m "$PER_DOMAIN" -l "$SIZE" -f sender@bench.local -t "$2" "$1" \
		>>"$WORK/inject.log" 2>&1
}

# ---- estafeta ----
say "estafeta: instance in $EST"
"$ESTAFETA" init "$EST" --domain bench.local --port-base "$BASE" --listen 127.0.0.1 >/dev/null
C="$EST/estafeta.conf"
"$ESTAFETA" -c "$C" config set dns.resolvers "$DNS_IP:$DNS_PORT"
"$ESTAFETA" -c "$C" config set outbound.port "$SINK_PORT"
"$ESTAFETA" -c "$C" config set queue.retry_schedule 1h
"$ESTAFETA" -c "$C" config set smtp.max_connections_per_ip 1000
for n in $DOMAINS; do "$ESTAFETA" -c "$C" alias add "r$n@bench.local" "u$n@d$n.bench"; done
"$ESTAFETA" -c "$C" serve >"$WORK/estafeta.log" 2>&1 &
est_pid=$!
sleep 1
say "estafeta: queueing $MESSAGES messages (the sinks are down, so each is deferred once)"
inject_all() { # $1: host:port, $2: recipient pattern with N for the domain number
	inj=""
	for n in $DOMAINS; do
		inject "$1" "$(echo "$2" | sed "s/N/$n/g")" &
		inj="$inj $!"
	done
	for p in $inj; do wait "$p"; done
}
inject_all "127.0.0.1:$((BASE + 25))" "rN@bench.local"
queued() { "$ESTAFETA" -c "$C" queue list | awk -F'\t' '$5 != "0"' | wc -l; }
wait_until "$ESTAFETA -c $C queue list | awk -F'\t' '\$5 != \"0\"' | wc -l" "$MESSAGES" ||
	fail "estafeta queued $(queued) of $MESSAGES messages; see $WORK"
start_sinks
say "estafeta: flushing the queue"
t0=$(now)
"$ESTAFETA" -c "$C" queue flush >/dev/null
wait_until "$ESTAFETA -c $C queue list | wc -l" 0 || fail "estafeta did not empty its queue in ${TIMEOUT} s"
t1=$(now)
est_secs=$(secs "$t0" "$t1")
est_rate=$(rate "$MESSAGES" "$t0" "$t1")
est_sent=$(grep -c 'status=sent' "$WORK/estafeta.log" || true)
kill "$est_pid"; wait "$est_pid" 2>/dev/null || true; est_pid=""

# ---- Postfix ----
say "Postfix: private instance in $PF"
mkdir -p "$PF/conf" "$PF/queue" "$PF/data"
chown postfix "$PF/data"
transports=""
for n in $DOMAINS; do transports="$transports d$n.bench=smtp:[127.0.0.$((20 + n))]:$SINK_PORT,"; done
cat >"$PF/conf/main.cf" <<EOF
# Generated by bench/outbound.sh: a private Postfix for the outbound benchmark. Defaults
# everywhere except what makes it private and what routes the bench domains to the sinks.
compatibility_level = 3.6
config_directory = $PF/conf
queue_directory = $PF/queue
data_directory = $PF/data
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
myhostname = mx.bench.local
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
readme_directory = no
transport_maps = inline:{${transports%,} }
defer_transports = smtp
EOF
sed "s/^SMTPD_LISTEN/127.0.0.1:$PF_PORT/" "$TOP/bench/postfix-master.cf" >"$PF/conf/master.cf"
postfix -c "$PF/conf" check
pf_started=1
postfix -c "$PF/conf" start >/dev/null 2>&1 || fail "Postfix did not start; see $PF/maillog"
sleep 2
say "Postfix: queueing $MESSAGES messages (defer_transports = smtp holds them)"
inject_all "127.0.0.1:$PF_PORT" "uN@dN.bench"
pf_queued() { postqueue -c "$PF/conf" -j 2>/dev/null | wc -l; }
wait_until "postqueue -c $PF/conf -j 2>/dev/null | grep -c '\"queue_name\": \"deferred\"'" "$MESSAGES" ||
	fail "Postfix queued $(pf_queued) of $MESSAGES messages; see $PF/maillog"
postconf -c "$PF/conf" -e defer_transports=
postfix -c "$PF/conf" reload >/dev/null 2>&1
sleep 1
say "Postfix: flushing the queue"
t0=$(now)
postqueue -c "$PF/conf" -f
wait_until "postqueue -c $PF/conf -j 2>/dev/null | wc -l" 0 || fail "Postfix did not empty its queue in ${TIMEOUT} s"
t1=$(now)
pf_secs=$(secs "$t0" "$t1")
pf_rate=$(rate "$MESSAGES" "$t0" "$t1")
pf_sent=$(grep -c 'status=sent' "$PF/maillog" || true)

echo
echo "Outbound delivery: $MESSAGES queued messages of $SIZE bytes to 10 domains, one smtp-sink each"
printf '%-10s %10s %10s %8s  %s\n' server seconds "msgs/s" sent configuration
printf '%-10s %10s %10s %8s  %s\n' estafeta "$est_secs" "$est_rate" "$est_sent" \
	"MX via dnsmasq, outbound.max_connections_per_domain=10 (default)"
printf '%-10s %10s %10s %8s  %s\n' postfix "$pf_secs" "$pf_rate" "$pf_sent" \
	"transport_maps to the sinks, default_destination_concurrency_limit=20 (default)"
echo "Logs: $WORK"
