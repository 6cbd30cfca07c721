#!/bin/sh
# make install: the binary into $PREFIX/sbin with sendmail and mailq links beside it, and the
# sendmail that Debian's cron and scripts run (/usr/sbin/sendmail, /usr/lib/sendmail) pointed at
# it. Another mail system's sendmail there is replaced only when asked: FORCE=yes, or through
# Debian's alternatives (update-alternatives, which keeps a real file it did not make unless
# forced, and which `update-alternatives --remove sendmail PATH` undoes). Says what it changed.
#   scripts/install.sh BINARY    with DESTDIR, PREFIX (default /usr/local), FORCE=yes|no,
#                                ALTERNATIVES=auto|yes|no (auto: yes when DESTDIR is empty and
#                                update-alternatives exists; with DESTDIR it works under it)
set -eu
binary=$1
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
FORCE=${FORCE:-no}
ALTERNATIVES=${ALTERNATIVES:-auto}
program=$PREFIX/sbin/estafeta # as the installed system names it

say() { printf 'install: %s\n' "$*"; }

# What is at PATH (under DESTDIR), in words: "a link to X", "a file of package P", "a file".
describe() {
  if [ -L "$DESTDIR$1" ]; then
    echo "a link to $(readlink "$DESTDIR$1")"
  elif [ -z "$DESTDIR" ] && owner=$(dpkg-query -S "$1" 2>/dev/null); then
    echo "a file of package ${owner%%:*}"
  else
    echo "a file"
  fi
}

# The path PATH leads to through its links, as the installed system will see them (an
# absolute link target lies under DESTDIR too).
follow() {
  p=$1 n=0
  while [ -L "$DESTDIR$p" ] && [ $n -lt 20 ]; do
    t=$(readlink "$DESTDIR$p")
    case $t in
      /*) p=$t ;;
      *) p=$(dirname "$p")/$t ;;
    esac
    p=$(realpath -m -s "$p")
    n=$((n + 1))
  done
  echo "$p"
}

# Whether PATH (under DESTDIR) already runs estafeta, directly or through links.
is_ours() {
  [ -L "$DESTDIR$1" ] && [ "$(follow "$1")" = "$program" ]
}

# Makes PATH a link with text TARGET, unless another mail system's sendmail is there and
# FORCE is not yes; a replaced file is kept as PATH.before-estafeta.
claim() {
  path=$1 target=$2
  if is_ours "$path"; then
    say "$path already runs estafeta"
    return 0
  fi
  if [ -e "$DESTDIR$path" ] || [ -L "$DESTDIR$path" ]; then
    was=$(describe "$path")
    if [ "$FORCE" != yes ]; then
      say "left $path alone: it is $was (another mail system's); FORCE=yes replaces it"
      return 0
    fi
    mv "$DESTDIR$path" "$DESTDIR$path.before-estafeta"
    ln -s "$target" "$DESTDIR$path"
    say "replaced $path (it was $was, kept as $path.before-estafeta) with a link to $target"
    return 0
  fi
  install -d "$(dirname "$DESTDIR$path")"
  ln -s "$target" "$DESTDIR$path"
  say "linked $path -> $target"
}

install -d "$DESTDIR$PREFIX/sbin" "$DESTDIR$PREFIX/bin"
install -m 755 "$binary" "$DESTDIR$program"
say "installed $program"
claim "$PREFIX/sbin/sendmail" estafeta
claim "$PREFIX/bin/mailq" ../sbin/estafeta

if [ "$ALTERNATIVES" = auto ]; then
  ALTERNATIVES=no
  [ -z "$DESTDIR" ] && command -v update-alternatives >/dev/null && ALTERNATIVES=yes
fi
if [ "$ALTERNATIVES" = yes ]; then
  root="" force=""
  [ -n "$DESTDIR" ] && root="--root $DESTDIR" && install -d "$DESTDIR/etc/alternatives" \
    "$DESTDIR/var/lib/dpkg/alternatives" "$DESTDIR/usr/sbin"
  [ "$FORCE" = yes ] && force=--force
  was=$(describe /usr/sbin/sendmail)
  # shellcheck disable=SC2086 # root and force are one option each, or nothing
  update-alternatives $root $force --quiet --install /usr/sbin/sendmail sendmail "$program" 50
  if is_ours /usr/sbin/sendmail; then
    say "/usr/sbin/sendmail runs estafeta through update-alternatives (it was $was; undo:" \
        "update-alternatives --remove sendmail $program)"
  else
    say "left /usr/sbin/sendmail alone: it is $was (another mail system's);" \
        "registered with update-alternatives, FORCE=yes replaces it"
  fi
else
  claim /usr/sbin/sendmail "$program"
fi
# Debian's /usr/lib/sendmail is a link to ../sbin/sendmail: it follows whichever that is.
if [ -L "$DESTDIR/usr/lib/sendmail" ] && [ "$(readlink "$DESTDIR/usr/lib/sendmail")" = ../sbin/sendmail ]; then
  say "/usr/lib/sendmail follows /usr/sbin/sendmail"
else
  claim /usr/lib/sendmail ../sbin/sendmail
fi
