#!/bin/sh
# bench/run.sh: SMTP ingestion benchmark, estafeta against Postfix, run by `make bench`.
#
# Builds the load generator (bench/smtp-load.c), then, one server at a time on 127.0.0.1:
#   - estafeta: a private instance under $BENCH_BUILD/bench/estafeta (SMTP port 21025);
#   - Postfix: a private instance (own config, queue and data directories) under
#     $BENCH_BUILD/bench/postfix, smtpd on 127.0.0.1:22525, local delivery to ~benchN/Maildir/.
# Each gets the same warm-up and the same load (BENCH_CONNECTIONS sessions sending BENCH_MESSAGES
# messages of BENCH_SIZE bytes to bench1..bench4@bench.test). A message counts as ingested when it
# is in the mailbox, so the rate includes Postfix's delivery tail. Prints one table, the memory
# of each server and the exact configuration of each. See bench/README.md.
#
# Runs as root (it creates the local users bench1..bench4 and starts Postfix).
# Environment: BENCH_MESSAGES (10000), BENCH_CONNECTIONS (20), BENCH_SIZE (4096),
#   BENCH_WARMUP (300), BENCH_DELIVERY_TIMEOUT (seconds to wait for delivery, 120),
#   BENCH_POSTFIX_PORT (22525), BENCH_PORT_BASE (21000, estafeta SMTP = base + 25),
#   BENCH_SERVERS ("estafeta postfix"), BENCH_BUILD (build; the estafeta binary and work folder),
#   BENCH_MORE ("pop3 imap outbound": the benchmarks run after this one; "" for SMTP alone).
#
# Results are kept in per-server variables (estafeta_rate, postfix_rate, ...) set and read through
# eval, and `set -- $(pss_tree PID)` splits on purpose; shellcheck cannot follow either:
# shellcheck disable=SC2034,SC2154,SC2046
set -eu

cd "$(dirname "$0")/.."
TOP=$(pwd)
. "$TOP/bench/lib.sh"

MESSAGES=${BENCH_MESSAGES:-10000}
CONNECTIONS=${BENCH_CONNECTIONS:-20}
SIZE=${BENCH_SIZE:-4096}
WARMUP=${BENCH_WARMUP:-300}
DELIVERY_TIMEOUT=${BENCH_DELIVERY_TIMEOUT:-120}
POSTFIX_PORT=${BENCH_POSTFIX_PORT:-22525}
PORT_BASE=${BENCH_PORT_BASE:-21000}
SERVERS=${BENCH_SERVERS:-estafeta estafeta_checks postfix}
CHECKS_DNS_PORT=${BENCH_CHECKS_DNS_PORT:-21053}
BUILD_DIR=${BENCH_BUILD:-build}

DOMAIN=bench.test
USERS="bench1 bench2 bench3 bench4"
ESTAFETA_PORT=$((PORT_BASE + 25))
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$TOP/$BUILD_DIR ;; esac
ESTAFETA=$BUILD_DIR/estafeta
WORK=$BUILD_DIR/bench
LOAD=$WORK/smtp-load
PF=$WORK/postfix
PF_CONF=$PF/conf
EST=$WORK/estafeta
EST_CONF=$EST/estafeta.conf

say() { printf '%s\n' "bench: $*"; }
fail() { printf '%s\n' "bench: error: $*" >&2; exit 1; }

for n in "$MESSAGES" "$CONNECTIONS" "$SIZE" "$WARMUP" "$DELIVERY_TIMEOUT" "$POSTFIX_PORT" \
	"$PORT_BASE"; do
	case $n in ''|*[!0-9]*) fail "BENCH_* settings must be whole numbers, got '$n'" ;; esac
done
[ "$(id -u)" -eq 0 ] || fail "run as root: the benchmark creates local users and starts Postfix"

# ---------------------------------------------------------------------------------------------
# Cleanup: whatever happens, stop what this script started (and nothing else).

postfix_started=0
estafeta_pid=
sampler_pid=
dnsmasq_pid=
LOAD_MESSAGE=""

stop_postfix() {
	[ "$postfix_started" -eq 1 ] || return 0
	postfix_started=0
	postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
	# postfix stop only signals the master; wait until it and its children are gone.
	i=0
	while postfix -c "$PF_CONF" status >/dev/null 2>&1 && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	if postfix -c "$PF_CONF" status >/dev/null 2>&1; then
		say "Postfix did not stop within 10 s; aborting it"
		postfix -c "$PF_CONF" abort >/dev/null 2>&1 || true
	fi
}

stop_estafeta() {
	[ -n "$estafeta_pid" ] || return 0
	kill -TERM "$estafeta_pid" 2>/dev/null || true
	i=0
	while kill -0 "$estafeta_pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	if kill -0 "$estafeta_pid" 2>/dev/null; then
		say "estafeta did not stop within 10 s of SIGTERM; killing it"
		kill -KILL "$estafeta_pid" 2>/dev/null || true
	fi
	wait "$estafeta_pid" 2>/dev/null || true
	estafeta_pid=
}

stop_sampler() {
	[ -n "$sampler_pid" ] || return 0
	kill "$sampler_pid" 2>/dev/null || true
	wait "$sampler_pid" 2>/dev/null || true
	sampler_pid=
}

cleanup() {
	[ -z "$dnsmasq_pid" ] || kill "$dnsmasq_pid" 2>/dev/null || true
	stop_sampler
	stop_estafeta
	stop_postfix
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Helpers.


# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }

# busy_check: prints how busy the CPUs were (percent, all CPUs together) during one second while
# the server under test sits idle, and warns when other work is using them: it competes with the
# server for the CPUs and the disk, and the figures become noisy.
busy_check() {
	s1=$(head -n 1 /proc/stat)
	sleep 1
	s2=$(head -n 1 /proc/stat)
	busy=$(printf '%s\n%s\n' "$s1" "$s2" | awk '
		{ idle[NR] = $5 + $6; total[NR] = 0; for (i = 2; i <= NF; i++) total[NR] += $i }
		END {
			t = total[2] - total[1]; b = 0
			if (t > 0) b = 100 * (1 - (idle[2] - idle[1]) / t)
			printf "%d\n", b
		}')
	if [ "$busy" -gt 20 ]; then
		say "warning: other work keeps the CPUs ${busy}% busy; figures will be noisy" >&2
	fi
	echo "$busy"
}

# ratio A B: A/B with two decimals, or "n/a" when B is zero.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }


# tree_pids PID: PID and all its descendants.
tree_pids() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2; pids[NR] = $1 }
		END {
			keep[root] = 1; changed = 1
			while (changed) {
				changed = 0
				for (i = 1; i <= NR; i++) {
					p = pids[i]
					if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
				}
			}
			for (p in keep) print p
		}'
}

# pss_tree PID: "KB PROCESSES", private memory (PSS) summed over PID and its descendants.
# One cat and one awk whatever the number of processes, so sampling disturbs the run little;
# a process that exits meanwhile is simply not counted.
pss_tree() {
	files=""
	for p in $(tree_pids "$1"); do files="$files /proc/$p/smaps_rollup"; done
	# shellcheck disable=SC2086  # files is a word list on purpose
	cat $files 2>/dev/null | awk '/^Pss:/ { kb += $2; n++ } END { printf "%d %d\n", kb, n }'
}

# start_sampler PID FILE: sample pss_tree every second into FILE until stop_sampler.
start_sampler() {
	# The subshell must not run this script's cleanup when it is stopped.
	( trap - EXIT INT TERM; while :; do pss_tree "$1" >>"$2"; sleep 1; done ) &
	sampler_pid=$!
}

# peak_of FILE: the largest KB in a sampler file.
peak_of() { awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$1"; }

# mb KB: megabytes with one decimal.
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# warm_up NAME PORT: sends the uncounted warm-up messages; sets $warm_ok to how many were accepted.
warm_up() {
	warm_ok=0
	[ "$WARMUP" -gt 0 ] || return 0
	say "$1: warm-up, $WARMUP messages"
	run_load "$1" "$2" "$WARMUP" "$WORK/$1-warmup.log"
	warm_ok=$(field accepted "$result")
}

# run_load NAME PORT COUNT LOG: runs smtp-load, prints its report indented, sets $result.
run_load() {
	rcpts=""
	for u in $USERS; do rcpts="$rcpts $u@$DOMAIN"; done
	# shellcheck disable=SC2086  # rcpts is a word list on purpose
	"$LOAD" -c "$CONNECTIONS" -n "$3" -s "$SIZE" ${LOAD_MESSAGE:+-m "$LOAD_MESSAGE"} \
		"127.0.0.1:$2" $rcpts >"$4" 2>&1 || true
	sed 's/^/    /' "$4" | grep -v '^    result '
	result=$(grep '^result ' "$4" || true)
	[ -n "$result" ] || fail "$1: the load generator did not finish; see $4"
}

# ---------------------------------------------------------------------------------------------
# Preparation: the load generator, the users, the work folder.

command -v cc >/dev/null || fail "no C compiler; run 'make deps-bench' first"
command -v ss >/dev/null || fail "ss (iproute2) is needed to see when a server listens"
mkdir -p "$WORK"
say "building $LOAD"
cc -std=c11 -O2 -g -Wall -Wextra -pthread "$TOP/bench/smtp-load.c" -o "$LOAD"

for u in $USERS; do
	if ! getent passwd "$u" >/dev/null; then
		say "creating local user $u (Postfix delivers to ~$u/Maildir/)"
		useradd --create-home --shell /usr/sbin/nologin "$u"
	fi
done

# home_of USER: the user's home directory.
home_of() { getent passwd "$1" | cut -d: -f6; }

# maildir_count: messages in all bench users' Maildirs (new/ and cur/).
maildir_count() {
	n=0
	for u in $USERS; do
		h=$(home_of "$u")
		c=$(find "$h/Maildir/new" "$h/Maildir/cur" -type f 2>/dev/null | wc -l)
		n=$((n + c))
	done
	echo "$n"
}

# maildir_last_mtime: time of the newest delivered message file (seconds since the epoch).
maildir_last_mtime() {
	for u in $USERS; do
		h=$(home_of "$u")
		find "$h/Maildir/new" "$h/Maildir/cur" -type f -printf '%T@\n' 2>/dev/null
	done | sort -n | tail -n 1
}

# wait_maildir EXPECTED: waits until that many messages are delivered or the timeout passes.
# Returns 1 on timeout.
wait_maildir() {
	deadline=$(( $(date +%s) + DELIVERY_TIMEOUT ))
	while [ "$(maildir_count)" -lt "$1" ]; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		# The finish time comes from the files' mtimes, so polling slowly costs no precision.
		sleep 0.5
	done
}

# estafeta_count: messages in all bench users' estafeta INBOXes.
estafeta_count() {
	n=0
	for u in $USERS; do
		c=$("$ESTAFETA" -c "$EST_CONF" mailbox list "$u@$DOMAIN" | tail -n +2 | wc -l)
		n=$((n + c))
	done
	echo "$n"
}

# Results, one set of variables per server: ${name}_rate, _secs, _smtp_rate, _p50, _p99, _max,
# _errors, _detail, _load, _pss_idle, _pss_peak, _pss_end, _procs, _note.
ran=""

# record NAME INGESTED ELAPSED_INGEST: stores the results of the last run_load for NAME.
record() {
	accepted=$(field accepted "$result")
	refused=$(field refused "$result")
	not_sent=$(field not_sent "$result")
	aborted=$(field aborted_connections "$result")
	lost=$((accepted - $2))
	[ "$lost" -ge 0 ] || lost=0
	eval "${1}_rate=\$(calc \"$2 / $3\")"
	eval "${1}_secs=\$(calc \"$3\")"
	eval "${1}_smtp_rate=\$(field msgs_per_s \"\$result\")"
	eval "${1}_p50=\$(field p50_ms \"\$result\")"
	eval "${1}_p99=\$(field p99_ms \"\$result\")"
	eval "${1}_max=\$(field max_ms \"\$result\")"
	eval "${1}_errors=$((refused + not_sent + aborted + lost))"
	eval "${1}_detail=\"refused=$refused not_sent=$not_sent aborted_connections=$aborted not_in_mailbox=$lost\""
	ran="$ran $1"
}

# ---------------------------------------------------------------------------------------------
# estafeta.

# checks_dns: dnsmasq on 127.0.0.1:$CHECKS_DNS_PORT answering for the load generator's domain
# as a sender's DNS would: its PTR and A (iprev, HELO), SPF, the DKIM key of the message
# $WORK/signed.eml (signed here with python3-dkim) and a DMARC policy.
checks_dns() {
	openssl genrsa -out "$WORK/dkim.key" 2048 2>/dev/null
	key=$(openssl rsa -in "$WORK/dkim.key" -pubout 2>/dev/null | grep -v '^-----' | tr -d '\n')
	/usr/bin/python3 - "$WORK/dkim.key" "$WORK/signed.eml" "$SIZE" <<'PY'
import sys, dkim
key = open(sys.argv[1], "rb").read()
size = int(sys.argv[3])
head = (b"From: Load Generator <loadgen@client.bench.test>\r\nTo: <bench1@bench.test>\r\n"
        b"Subject: Benchmark message, signed\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\n"
        b"Message-ID: <bench.signed@client.bench.test>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
body = line * max(1, (size - len(head) - 600) // len(line))
sig = dkim.sign(head + body, b"bench", b"client.bench.test", key,
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
open(sys.argv[2], "wb").write(sig + head + body)
PY
	# A TXT record's strings are at most 255 octets: the key goes in pieces.
	pieces=$(printf 'v=DKIM1; k=rsa; p=%s' "$key" | fold -w 250 | paste -sd, -)
	/usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
		--pid-file= --bind-interfaces --listen-address=127.0.0.1 --port="$CHECKS_DNS_PORT" \
		--user=root --local=/test/ --local=/in-addr.arpa/ \
		--ptr-record=1.0.0.127.in-addr.arpa,client.bench.test \
		--host-record=client.bench.test,127.0.0.1 \
		"--txt-record=client.bench.test,v=spf1 ip4:127.0.0.1 -all" \
		"--txt-record=bench._domainkey.client.bench.test,$pieces" \
		"--txt-record=_dmarc.client.bench.test,v=DMARC1; p=reject" \
		>"$WORK/dnsmasq.log" 2>&1 &
	dnsmasq_pid=$!
}

# bench_estafeta NAME CHECKS: estafeta with its checks of port 25's senders off (CHECKS=no:
# the plain figure) or on (yes: reverse DNS, SPF, DKIM of a signed message and DMARC, each
# message, against checks_dns).
bench_estafeta() {
	name=$1
	[ -x "$ESTAFETA" ] || fail "$ESTAFETA is missing; run 'make all' first"
	port_listening "$ESTAFETA_PORT" && fail "port $ESTAFETA_PORT is already in use"
	say "$name: creating a private instance in $EST"
	rm -rf "$EST"
	"$ESTAFETA" init "$EST" --domain "$DOMAIN" --hostname "mx.$DOMAIN" --port-base "$PORT_BASE" \
		>"$WORK/$name-init.log" 2>&1 ||
		{ cat "$WORK/$name-init.log" >&2; fail "estafeta init failed"; }
	[ -f "$EST_CONF" ] || fail "estafeta init did not write $EST_CONF"
	"$ESTAFETA" -c "$EST_CONF" config set smtp.max_connections_per_ip 100
	"$ESTAFETA" -c "$EST_CONF" config set smtp.checks "$2"
	message=""
	if [ "$2" = yes ]; then
		checks_dns
		"$ESTAFETA" -c "$EST_CONF" config set dns.resolvers "127.0.0.1:$CHECKS_DNS_PORT"
		message="$WORK/signed.eml"
	fi
	for u in $USERS; do
		printf 'bench-%s-password\n' "$u" |
			"$ESTAFETA" -c "$EST_CONF" user add "$u@$DOMAIN" --password-stdin
	done

	"$ESTAFETA" -c "$EST_CONF" serve >"$EST/serve.log" 2>&1 &
	estafeta_pid=$!
	wait_port "$ESTAFETA_PORT" 20 "$estafeta_pid" ||
		{ tail -n 20 "$EST/serve.log" >&2; fail "estafeta serve did not listen on port $ESTAFETA_PORT within 20 s"; }
	sleep 2 # let start-up finish (privilege drop, first allocations freed) before measuring idle
	set -- $(pss_tree "$estafeta_pid"); eval "${name}_pss_idle=\$1"

	LOAD_MESSAGE=$message
	warm_up "$name" "$ESTAFETA_PORT"

	say "$name: $MESSAGES messages, $CONNECTIONS connections, $SIZE bytes each"
	: >"$WORK/$name-pss.samples"
	eval "${name}_load=\$(busy_check)"
	start_sampler "$estafeta_pid" "$WORK/$name-pss.samples"
	run_load "$name" "$ESTAFETA_PORT" "$MESSAGES" "$WORK/$name-load.log"
	stop_sampler
	kill -0 "$estafeta_pid" 2>/dev/null ||
		{ tail -n 20 "$EST/serve.log" >&2; fail "estafeta serve died during the run"; }
	set -- $(pss_tree "$estafeta_pid"); pss_end=$1; eval "${name}_procs=\$2"
	pss_peak=$(peak_of "$WORK/$name-pss.samples")
	[ "$pss_end" -le "$pss_peak" ] || pss_peak=$pss_end
	eval "${name}_pss_end=\$pss_end; ${name}_pss_peak=\$pss_peak"

	# A 250 after DATA means the message is in the mailbox and fsync'd: ingestion time is the
	# SMTP time. Still, count what the mailboxes hold.
	in_box=$(estafeta_count)
	delivered=$((in_box - warm_ok))
	say "$name: mailboxes hold $in_box messages ($warm_ok from the warm-up)"
	record "$name" "$delivered" "$(field elapsed_s "$result")"
	eval "${name}_note=''"
	if [ "$2" = yes ]; then
		# Every message must have been judged, not waved through on a DNS timeout.
		last=$("$ESTAFETA" -c "$EST_CONF" mailbox show bench1@bench.test 1 | grep -A4 '^Authentication-Results' | tr -d '\r\n\t')
		case $last in
		*"spf=pass"*"dkim=pass"*"dmarc=pass"*) ;;
		*) eval "${name}_note='checks did not all pass: $last'" ;;
		esac
		kill "$dnsmasq_pid" 2>/dev/null || true
		wait "$dnsmasq_pid" 2>/dev/null || true
		dnsmasq_pid=
	fi
	eval "${name}_config=\$(\"\$ESTAFETA\" -c \"\$EST_CONF\" config list --changed 2>&1 || true)"
	estafeta_version=$("$ESTAFETA" --version 2>/dev/null ||
		echo "estafeta $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '(unknown version)')")
	stop_estafeta
	LOAD_MESSAGE=""
}

# ---------------------------------------------------------------------------------------------
# Postfix.

write_postfix_config() {
	mkdir -p "$PF_CONF" "$PF/queue" "$PF/data"
	cat >"$PF_CONF/main.cf" <<EOF
# Generated by bench/run.sh: a private Postfix instance for the SMTP ingestion benchmark.
# Defaults everywhere (durability, process limits, flow control) except what makes it private,
# local-only and observable.
compatibility_level = 3.6
config_directory = $PF_CONF
queue_directory = $PF/queue
data_directory = $PF/data
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
myhostname = mx.$DOMAIN
mydomain = $DOMAIN
myorigin = \$mydomain
mydestination = $DOMAIN
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
home_mailbox = Maildir/
# As in Debian's packaged main.cf: no comsat notification for each delivery.
biff = no
append_dot_mydomain = no
readme_directory = no
EOF
	# Upstream's default master.cf (chroot off, as upstream ships it), with smtpd moved to
	# 127.0.0.1:$POSTFIX_PORT and the optional pipe transports left out.
	cat >"$PF_CONF/master.cf" <<EOF
# Generated by bench/run.sh: upstream Postfix's default services, smtpd on a private port.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$POSTFIX_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	# Postfix's data directory belongs to its mail_owner; it creates the queue's subfolders.
	chown postfix "$PF/data"
}

bench_postfix() {
	command -v postfix >/dev/null || fail "Postfix is not installed; run 'make deps-bench' first"
	port_listening "$POSTFIX_PORT" && fail "port $POSTFIX_PORT is already in use"
	say "Postfix: creating a private instance in $PF"
	if [ -d "$PF_CONF" ] && postfix -c "$PF_CONF" status >/dev/null 2>&1; then
		say "Postfix: a previous bench instance is still running; stopping it"
		postfix_started=1
		stop_postfix
	fi
	rm -rf "$PF"
	write_postfix_config
	for u in $USERS; do rm -rf "$(home_of "$u")/Maildir"; done

	postfix_started=1 # from here on, cleanup stops it
	if ! { postfix -c "$PF_CONF" check && postfix -c "$PF_CONF" start; } \
			>"$WORK/postfix-start.log" 2>&1; then
		cat "$WORK/postfix-start.log" >&2
		[ ! -f "$PF/maillog" ] || tail -n 20 "$PF/maillog" >&2
		fail "Postfix did not start"
	fi
	wait_port "$POSTFIX_PORT" 20 ||
		{ tail -n 20 "$PF/maillog" >&2 2>/dev/null; fail "Postfix did not listen on port $POSTFIX_PORT within 20 s"; }
	master_pid=$(tr -dc 0-9 <"$PF/data/master.lock")
	[ -n "$master_pid" ] || fail "cannot read the Postfix master's pid from $PF/data/master.lock"
	sleep 2 # as for estafeta: measure idle once start-up is over
	set -- $(pss_tree "$master_pid"); postfix_pss_idle=$1

	warm_up postfix "$POSTFIX_PORT"
	wait_maildir "$warm_ok" || fail "Postfix delivered $(maildir_count) of $warm_ok warm-up messages in ${DELIVERY_TIMEOUT} s; see $PF/maillog"

	say "Postfix: $MESSAGES messages, $CONNECTIONS connections, $SIZE bytes each"
	: >"$WORK/postfix-pss.samples"
	postfix_load=$(busy_check)
	start_sampler "$master_pid" "$WORK/postfix-pss.samples"
	run_load postfix "$POSTFIX_PORT" "$MESSAGES" "$WORK/postfix-load.log"
	accepted=$(field accepted "$result")
	postfix_note=""
	if ! wait_maildir $((warm_ok + accepted)); then
		postfix_note="delivery timed out after ${DELIVERY_TIMEOUT} s"
		say "Postfix: $postfix_note"
	fi
	stop_sampler
	set -- $(pss_tree "$master_pid"); postfix_pss_end=$1; postfix_procs=$2
	postfix_pss_peak=$(peak_of "$WORK/postfix-pss.samples")
	[ "$postfix_pss_end" -le "$postfix_pss_peak" ] || postfix_pss_peak=$postfix_pss_end

	in_box=$(maildir_count)
	delivered=$((in_box - warm_ok))
	start=$(field start_unix "$result")
	last=$(maildir_last_mtime)
	smtp_end=$(calc "$start + $(field elapsed_s "$result")")
	elapsed=$(awk -v s="$start" -v l="$last" -v e="$smtp_end" 'BEGIN { if (l < e) l = e; printf "%.3f", l - s }')
	say "Postfix: Maildirs hold $in_box messages ($warm_ok from the warm-up); last delivered $(calc "$elapsed - $(field elapsed_s "$result")") s after the last 250"
	record postfix "$delivered" "$elapsed"
	postfix_config=$(postconf -c "$PF_CONF" -n; echo; postconf -c "$PF_CONF" -M)
	postfix_version="Postfix $(postconf -c "$PF_CONF" -h mail_version)"
	if grep -E -q '(warning|fatal|panic):' "$PF/maillog"; then
		say "Postfix: its log has warnings (first 5; all in $PF/maillog):"
		grep -E '(warning|fatal|panic):' "$PF/maillog" | head -n 5 | sed 's/^/    /'
	fi
	stop_postfix
}

# ---------------------------------------------------------------------------------------------
# Run and report.

for s in $SERVERS; do
	case $s in
	estafeta) bench_estafeta estafeta no ;;
	estafeta_checks) bench_estafeta estafeta_checks yes ;;
	postfix) bench_postfix ;;
	*) fail "unknown server '$s' in BENCH_SERVERS (estafeta, estafeta_checks, postfix)" ;;
	esac
done

echo
echo "SMTP ingestion: $MESSAGES messages of $SIZE bytes over $CONNECTIONS connections to" \
     "$(echo "$USERS" | wc -w) local users, after $WARMUP warm-up messages"
echo "machine: $(nproc) CPUs, $(uname -sr), mail stored on $(df -T "$WORK" | awk 'NR == 2 { print $2 }')"
loads=""
for s in $ran; do eval "loads=\"\$loads, \$${s}_load% before $s\""; done
echo "CPU use by other work in the second before each measured run: ${loads#, }"
echo
printf '%-16s %11s %8s %8s %8s %8s %8s %7s %9s %9s %6s\n' \
	server "ingested/s" "time s" "smtp/s" "p50 ms" "p99 ms" "max ms" errors "PSS idle" "PSS peak" procs
for s in $ran; do
	eval "printf '%-16s %11s %8s %8s %8s %8s %8s %7s %8sM %8sM %6s\n' \
		$s \$${s}_rate \$${s}_secs \$${s}_smtp_rate \$${s}_p50 \$${s}_p99 \$${s}_max \$${s}_errors \
		\$(mb \$${s}_pss_idle) \$(mb \$${s}_pss_peak) \$${s}_procs"
done
case $ran in
*estafeta_checks*)
	echo
	echo "estafeta with its checks (reverse DNS, HELO, SPF, DKIM, DMARC) against local DNS:" \
	     "ingestion $(ratio "$estafeta_checks_rate" "$estafeta_rate")x the plain figure" \
	     "(the target: above 0.70x, the checks costing under 30%)"
	;;
esac
case $ran in
*estafeta\ *postfix*|*postfix*estafeta\ *|*postfix*estafeta)
	echo
	echo "estafeta/Postfix: ingestion $(ratio "$estafeta_rate" "$postfix_rate")x (higher is better)," \
	     "p50 $(ratio "$estafeta_p50" "$postfix_p50")x, p99 $(ratio "$estafeta_p99" "$postfix_p99")x," \
	     "peak PSS $(ratio "$estafeta_pss_peak" "$postfix_pss_peak")x (lower is better)"
	;;
esac
echo
cat <<'EOF'
ingested/s: messages in the mailbox per second over "time s", which runs from the first
  connection to the last delivery (Postfix: the newest file in Maildir/; estafeta: the last 250
  after DATA, which means stored and fsync'd). smtp/s, p50, p99, max: as the client saw it, per
  message from MAIL FROM to the 250 after the dot. errors: refused, unsent, aborted connections
  and accepted messages missing from the mailbox. PSS: private memory summed over the server's
  processes; idle = 2 s after it started listening, before the warm-up; peak = the largest of
  samples taken every second during the run; procs = processes at the end of the run.
EOF
for s in $ran; do
	eval "e=\$${s}_errors; d=\$${s}_detail; n=\$${s}_note"
	[ "$e" -eq 0 ] || echo "$s errors: $d"
	[ -z "$n" ] || echo "$s: $n"
done

for s in $ran; do
	echo
	if [ "$s" != postfix ]; then
		echo "== $s configuration ($estafeta_version; $EST_CONF;" \
		     "estafeta config list --changed) =="
		eval "printf '%s\n' \"\$${s}_config\""
	else
		echo "== Postfix configuration ($postfix_version; postconf -n, then postconf -M) =="
		printf '%s\n' "$postfix_config"
	fi
done
echo
echo "Logs and raw output: $WORK"
# pop3: POP3 against Dovecot; imap: IMAP against Dovecot; outbound: outbound delivery against
# Postfix's smtp client. See each script.
for more in ${BENCH_MORE-pop3 imap outbound}; do
	"$TOP/bench/$more.sh"
done
