#!/bin/bash
# debian-root.sh SUITE DIR -- minimal Debian SUITE (trixie, forky, sid, bookworm...) in DIR
# with Debian's own openssh-server (Debian patches: DebianBanner, GSSAPI key exchange, ...).
#
# The project's copy of ../shared/openssh/debian-root.sh. internal/sshdtest.DebianRoot runs
# it once per suite, into $SSHWARDEN_ROOTS/SUITE (default /var/cache/sshwarden-test/roots),
# and runs the root's sshd chrooted in a private mount namespace for the live tests of each
# release. It also serves `sshd -T` oracle runs:
#   chroot DIR /usr/sbin/sshd -T -f /FILE -h /etc/ssh/ssh_host_ed25519_key -C user=...,lport=22
# FILE and the key are paths inside DIR. Debian 12 host, as root; needs network access to
# the mirror (about a minute, 220 MB). Idempotent: skips when DIR was completed before and
# its sshd still runs. Env: MIRROR (default deb.debian.org),
# PACKAGE (default openssh-server; from forky on, Debian builds that one without GSSAPI and
# ships GSSAPI + key exchange as openssh-server-gssapi, which conflicts with it: use one DIR each).
# Nothing is mounted and no service is started (debootstrap fakes start-stop-daemon).
# The root's sshd binaries must be root-owned and writable by root alone: the watcher trusts
# them, as the host sees them (DIR/usr/lib/openssh/sshd-session), only then; checked below.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SUITE DIR" >&2; exit 2; }
SUITE=$1
DIR=$(realpath -m "$2")
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PACKAGE=${PACKAGE:-openssh-server}
MARK=$DIR/.debian-root-ok
SPEC=user=root,host=h,addr=10.1.2.3,laddr=127.0.0.1,lport=22

sshd_works() { chroot "$DIR" /usr/sbin/sshd -T -h /etc/ssh/ssh_host_ed25519_key -C "$SPEC" >/dev/null; }

if [ -f "$MARK" ] && [ ! -e "$DIR/.debian-root-started" ] && sshd_works 2>/dev/null; then
  echo "already done: $(cat "$MARK")" >&2; echo "$DIR/usr/sbin/sshd"; exit 0
fi
[ "$DIR" != / ] && [ "$(stat -c %d:%i "$DIR" 2>/dev/null)" != "$(stat -c %d:%i /)" ] ||
  { echo "refusing DIR=$DIR" >&2; exit 2; }
if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then
  if [ -f "$DIR/.debian-root-started" ]; then   # an earlier run of this script did not finish
    echo "removing unfinished $DIR" >&2
    findmnt -rn -o TARGET | { grep -F "$DIR/" || true; } | sort -r | xargs -r -n1 umount -l
    rm -rf --one-file-system "$DIR"
  else
    echo "$DIR is not empty and was not made by $0; refusing" >&2; exit 1
  fi
fi
mkdir -p "$DIR"; : >"$DIR/.debian-root-started"

if ! dpkg-query -W -f='${Status}' debootstrap 2>/dev/null | grep -q 'ok installed'; then
  echo "installing debootstrap (apt-get install debootstrap)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 update -q >&2
  apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends debootstrap >&2
fi
# Bookworm's debootstrap has no script for suites newer than trixie (forky): use sid's.
SCRIPT=/usr/share/debootstrap/scripts/$SUITE
[ -e "$SCRIPT" ] || SCRIPT=/usr/share/debootstrap/scripts/sid

start=$(date +%s)
debootstrap --variant=minbase --include="$PACKAGE" "$SUITE" "$DIR" "$MIRROR" "$SCRIPT" >&2
end=$(date +%s)
size0=$(du -sh "$DIR" | cut -f1)
chroot "$DIR" apt-get clean   # drops the downloaded .debs; apt lists stay
# Debian's sshd uses /run/sshd as privsep dir; systemd-tmpfiles would make it on a real boot.
install -d -m 0755 "$DIR/run/sshd"
# The package's postinst normally generates host keys; make sure an ed25519 one exists.
[ -f "$DIR/etc/ssh/ssh_host_ed25519_key" ] ||
  chroot "$DIR" ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
sshd_works || { echo "chroot $DIR /usr/sbin/sshd -T fails" >&2; exit 1; }
# What the watcher trusts: root-owned binaries that neither group nor others can write.
bad=$(find "$DIR/usr/sbin/sshd" "$DIR/usr/lib/openssh" -maxdepth 1 -type f \( ! -user root -o -perm /022 \) -print)
[ -z "$bad" ] || { echo "not root-owned or writable by others: $bad" >&2; exit 1; }
ver=$(chroot "$DIR" dpkg-query -W -f='${Version}' "$PACKAGE")
echo "suite=$SUITE $PACKAGE=$ver debootstrap_seconds=$((end - start)) size_after_debootstrap=$size0 size=$(du -sh "$DIR" | cut -f1)" >"$MARK"
rm -f "$DIR/.debian-root-started"
cat "$MARK" >&2
echo "$DIR/usr/sbin/sshd"
