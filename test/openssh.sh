#!/bin/bash
# openssh.sh CACHE SRCDIR [VER...] -- the real sshd of each OpenSSH release the tests compare
# sshwarden with (internal/oracle.Release), built once into CACHE (`make openssh`):
#   CACHE/openssh/VER          upstream VER (8.0p1 ... 10.5p1) built by SRCDIR/build.sh: a
#                              DESTDIR with sbin/sshd, etc/sshd_config (the source tree's, as
#                              is), etc/ssh_host_ed25519_key, libexec/sshd-session (9.8+),
#                              libexec/sshd-auth (10.0+), BUILDINFO, build.log
#   CACHE/roots/trixie, forky  Debian's patched 10.0p1 and 10.6p1 (test/lab/debian-root.sh, the
#                              roots `make roots` caches too); ROOTS="" skips them
# SRCDIR is ../shared/openssh beside the repository: build.sh and src/openssh-VER.tar.gz.
# Idempotent: a release already built (its sshd -V says so) or a finished root takes no time.
# Builds run one at a time (each uses every core: JOBS, default nproc); the time of each goes
# to CACHE/openssh/VER/BUILDINFO and to stdout. Debian 12, as root; apt (build deps,
# debootstrap) waits up to 600 s for the dpkg lock.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 CACHE SRCDIR [VER...]" >&2; exit 2; }
CACHE=$(realpath -m "$1"); SRC=$(realpath -m "$2"); shift 2
RELEASES=("$@")
[ ${#RELEASES[@]} -gt 0 ] || RELEASES=(8.0p1 8.2p1 8.4p1 8.7p1 8.9p1 9.6p1 9.9p2 10.2p1 10.5p1)
ROOTS=${ROOTS-trixie forky}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$(id -u)" = 0 ] || { echo "$0: needs root (apt, sshd's privsep user, debootstrap)" >&2; exit 1; }
[ -x "$SRC/build.sh" ] || { echo "$0: no $SRC/build.sh (the OpenSSH sources beside the repository)" >&2; exit 1; }
for v in "${RELEASES[@]}"; do
  [[ $v =~ ^[0-9]+\.[0-9]+p[0-9]+$ ]] || { echo "$0: bad release $v (want e.g. 8.7p1)" >&2; exit 2; }
  [ -f "$SRC/src/openssh-$v.tar.gz" ] || { echo "$0: no $SRC/src/openssh-$v.tar.gz" >&2; exit 1; }
done

# build.sh's and debian-root.sh's own apt calls wait 900 s for the lock; install what they
# need here first, with this project's 600 s, so that theirs never run.
DEPS="build-essential autoconf automake pkg-config libssl-dev zlib1g-dev libpam0g-dev
      libkrb5-dev libselinux1-dev libedit-dev debootstrap"
missing=()
for p in $DEPS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >&2
fi

install -d -m 0755 "$CACHE/openssh" "$CACHE/roots"
rc=0
for v in "${RELEASES[@]}"; do
  dest=$CACHE/openssh/$v
  start=$(date +%s)
  # One build per release at a time, also across concurrent `make openssh` runs.
  if flock -w 1800 "$CACHE/openssh/.$v.lock" bash "$SRC/build.sh" "$v" "$dest" >"$CACHE/openssh/.$v.log" 2>&1; then
    end=$(date +%s)
    if grep -q '^already built' "$CACHE/openssh/.$v.log"; then
      echo "openssh $v: cached ($(grep -o 'seconds=[0-9]*' "$dest/BUILDINFO" 2>/dev/null || echo seconds=?) when built)"
    else
      echo "openssh $v: built in $((end - start))s wall ($(grep -o 'seconds=[0-9]*' "$dest/BUILDINFO") build.sh)"
    fi
  else
    echo "openssh $v: FAILED; last lines of $CACHE/openssh/.$v.log:" >&2
    tail -n 20 "$CACHE/openssh/.$v.log" >&2
    rc=1
  fi
done
for s in $ROOTS; do
  start=$(date +%s)
  if bash "$HERE/lab/debian-root.sh" "$s" "$CACHE/roots/$s" >"$CACHE/roots/.$s.log" 2>&1; then
    echo "debian $s: ready in $(( $(date +%s) - start ))s ($(head -c 200 "$CACHE/roots/$s/.debian-root-ok"))"
  else
    echo "debian $s: FAILED; last lines of $CACHE/roots/.$s.log:" >&2
    tail -n 20 "$CACHE/roots/.$s.log" >&2
    rc=1
  fi
done
exit $rc
