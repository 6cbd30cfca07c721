#!/bin/sh
# make run: a demo instance under ./var/demo (domain demo.test, user demo@demo.test) serving on
# unprivileged loopback ports until Ctrl-C. The demo password is made once and kept in
# var/demo/demo-password, so it stays the same from one run to the next.
set -eu
cd "$(dirname "$0")/.."
bin=build/estafeta
dir=var/demo
conf=$dir/estafeta.conf
base=${ESTAFETA_DEMO_PORT_BASE:-20000}
if [ ! -f "$conf" ]; then
  mkdir -p var
  # The server drops root to its own user, which must be able to reach the instance.
  chmod 755 var
  "$bin" init "$dir" --domain demo.test --hostname localhost --port-base "$base" >/dev/null
  password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-16)
  printf '%s\n' "$password" | "$bin" -c "$conf" user add demo@demo.test --password-stdin >/dev/null
  umask 077
  printf '%s\n' "$password" > "$dir/demo-password"
fi
password=$(cat "$dir/demo-password")
smtp=$("$bin" -c "$conf" config get smtp.port)
sub=$("$bin" -c "$conf" config get submission.port)
subs=$("$bin" -c "$conf" config get submissions.port)
pop3=$("$bin" -c "$conf" config get pop3.port)
pop3s=$("$bin" -c "$conf" config get pop3s.port)
imaps=$("$bin" -c "$conf" config get imaps.port)
cat <<MSG

estafeta demo instance in $dir (config: $conf)
  user:      demo@demo.test
  password:  $password

Try it:
  telnet 127.0.0.1 $smtp          then: EHLO me / MAIL FROM:<you@example.org> /
                                   RCPT TO:<demo@demo.test> / DATA / ... / . / QUIT
  swaks --server 127.0.0.1:$smtp --to demo@demo.test
  openssl s_client -starttls smtp -connect 127.0.0.1:$sub     (submission, STARTTLS)
  openssl s_client -connect 127.0.0.1:$subs                   (submission, implicit TLS)
  mail client: SMTP server 127.0.0.1 port $sub (STARTTLS) or $subs (SSL/TLS),
               user demo@demo.test, the password above (self-signed certificate)
  read what arrived: $bin -c $conf mailbox list demo@demo.test
  or over POP3:      telnet 127.0.0.1 $pop3   then: USER demo@demo.test / PASS ... / LIST /
                                   RETR 1 / QUIT   (POP3S with implicit TLS: port $pop3s)
  or over IMAP:      openssl s_client -quiet -connect 127.0.0.1:$imaps   then: a LOGIN demo@demo.test ... /
                                   b SELECT INBOX / c FETCH 1:* (FLAGS ENVELOPE) / d LOGOUT

Serving until Ctrl-C.
MSG
exec "$bin" -c "$conf" serve
