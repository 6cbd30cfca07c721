# bench/lib.sh: what the benchmark scripts share. Sourced (". bench/lib.sh"), never run.

# field NAME LINE: the value of NAME=value in a "result ..." line.
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# port_listening PORT: true when something listens on PORT.
port_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# wait_port PORT [SECONDS [PID]]: waits until PORT listens (30 s at most by default); fails
# when PID, if given, dies first.
wait_port() {
	i=0
	while ! port_listening "$1"; do
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
			return 1
		fi
		[ "$i" -lt $((${2:-30} * 10)) ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# build_load: bench/smtp-load, the SMTP load generator, built once into $LOAD.
build_load() {
	[ -x "$LOAD" ] && return 0
	mkdir -p "$(dirname "$LOAD")"
	cc -std=c11 -O2 -g -Wall -Wextra -pthread "$TOP/bench/smtp-load.c" -o "$LOAD"
}

# The private estafeta and Dovecot a script starts are stopped however it ends: it sets
# estafeta_pid, and dovecot_conf while its Dovecot runs.
estafeta_pid=""
dovecot_conf=""
stop_servers() {
	[ -z "$estafeta_pid" ] || { kill "$estafeta_pid" 2>/dev/null; wait "$estafeta_pid" 2>/dev/null || true; }
	[ -z "$dovecot_conf" ] || doveadm -c "$dovecot_conf" stop 2>/dev/null || true
}
