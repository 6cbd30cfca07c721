#!/bin/sh
# Installs the Debian packages estafeta needs for a purpose, and does nothing when they are
# already there. Usage: scripts/install-deps.sh build|test|bench|fuzz
set -eu
build="gcc make pkg-config libevent-dev libssl-dev libgpgme-dev libsqlite3-dev libcrypt-dev libc-ares-dev libidn2-dev libidn-dev libunistring-dev zlib1g-dev libxml2-dev openssl"
test="$build libcmocka-dev passwd python3 python3-pytest python3-authres swaks libnet-ssleay-perl fetchmail clang libclang-rt-14-dev dnsmasq-base postfix dovecot-imapd isync mutt systemd logrotate gnupg gpg gpg-agent gpgconf python3-dkim python3-dnspython python3-cryptography python3-nacl python3-spf libxml2-utils"
bench="$build postfix dovecot-pop3d dovecot-imapd python3 dnsmasq-base python3-dkim"
fuzz="$build clang libclang-rt-14-dev"
case "${1:-build}" in
  build) want=$build ;;
  test) want=$test ;;
  bench) want=$bench ;;
  fuzz) want=$fuzz ;;
  *) echo "usage: $0 build|test|bench|fuzz" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Tests install with --no-install-recommends: a Recommends a test needs is named here
# (libnet-ssleay-perl: swaks --tls); scripts/check-test-deps.py keeps this list complete.
# dnsmasq-base is the DNS server binary alone (the outbound tests run it on a loopback port);
# the dnsmasq package would also start a system service on port 53. python3-authres parses
# the Authentication-Results fields estafeta writes (test_authres.py); python3-dkim (dkimpy) is
# the independent DKIM verifier of the signing tests, and python3-dnspython looks its keys up
# in their dnsmasq and reads the zone-file lines of `dns records`; python3-spf (pyspf) is the
# independent SPF implementation test_spf.py compares estafeta spf check with; python3-nacl
# signs with Ed25519 keys in test_dkim_verify.py; python3-cryptography hashes the certificate's
# public key for the TLSA record's check; libxml2-utils' xmllint checks the DMARC reports
# estafeta writes against the schema of the aggregate reporting draft. The benchmark of
# inbound checks serves a sender's DNS with dnsmasq-base and signs its message with python3-dkim.
# postfix asks questions on install; answer them for a machine that only benchmarks it.
if echo "$missing" | grep -q postfix; then
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends $missing
