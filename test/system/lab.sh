#!/bin/bash
# lab.sh: booted Debian containers (systemd as PID 1, Debian's own sshd) for
# sshwarden's system test (system_test.go), on machines whose PID 1 is not
# systemd (no host D-Bus, hybrid cgroup v1/v2), as the project's CI machines
# are. Adapted from the lab's boot.sh; boot and stop are done as it does them.
#
#   lab.sh root SUITE        build SUITE's cached root once (debootstrap), print its path
#   lab.sh boot SUITE RUN    boot a throwaway copy of that root; RUN is an empty
#                            directory of the caller's for the copy and the state
#                            (RUN/nspawn.pid, RUN/nspawn.log); print the
#                            container's PID 1 as the host sees it
#   lab.sh exec RUN [CMD...] run CMD (default: a login shell) inside, clean environment
#   lab.sh pid RUN           print the container's PID 1 (host PID)
#   lab.sh stop RUN          halt cleanly (SIGTERM to nspawn = poweroff), remove the copy
#
# SUITE: bookworm (Debian 12: OpenSSH 9.2p1, systemd 252) or trixie (Debian 13:
# OpenSSH 10.0p1, systemd 257). Environment:
#   LAB_CACHE  where roots are cached: LAB_CACHE/SUITE (default /var/cache/sshwarden-test/lab)
#   LAB_COPY   how a run gets its copy: overlay (default: an overlayfs over the
#              cached root, mounted in nspawn's own mount namespace; nothing
#              copied), copy (cp -a into RUN), ephemeral (systemd-nspawn --ephemeral,
#              which copies the root next to it in LAB_CACHE on ext4).
#              Measured on the 2-core VM, 3 boots each, under load: overlay 1.7-4.7 s
#              from call to booted, copy 3.8-13 s (cp -a alone 1.9-9 s), ephemeral
#              4.4-15 s; stop 1.9-3.6 s, 2.1-9.5 s, 4.3-6.5 s. All three boot.
#   MIRROR     the Debian mirror (default http://deb.debian.org/debian)
#   LAB_OWNER  a PID: once that process is gone, the container is stopped and
#              RUN removed (the test passes its own, so that a test killed
#              before its cleanups, as by go test -timeout, leaves nothing running)
# Timings go to stderr as "lab: STEP SUITE: N.Ns".
#
# The cached root is never modified after it is complete: debootstrap runs
# into LAB_CACHE/.SUITE.new, which is prepared, then renamed to LAB_CACHE/SUITE;
# the marker LAB_CACHE/.SUITE.done (holding the recipe below) is written last,
# so a root without a marker that matches the recipe, such as one left by an
# interrupted debootstrap, is made again. A lock (LAB_CACHE/.SUITE.lock) lets
# concurrent runs share the cache.
#
# What makes nspawn work here:
#   --register=no   there is no machined / system bus on the host; without
#                   it, or without --keep-unit, nspawn stops at
#                   ("Failed to open system bus: No such file or directory")
#   --keep-unit     no systemd on the host to create a scope unit; nspawn uses
#                   the cgroup it is started in, so it is started in a cgroup of
#                   its own (lab-NAME in name=systemd and in the cgroup2 tree),
#                   else two containers would share /payload at the cgroup root
#   SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1  a pure cgroup2 tree inside, as on a
#                   real Debian 12/13 host
#   --private-network  only lo inside: the container's sshd on port 22 is the
#                   container's own, the host's port 22 is never touched
# machinectl / systemd-run -M cannot work (they need machined); use nsenter.
set -euo pipefail

MIRROR=${MIRROR:-http://deb.debian.org/debian}
LAB_CACHE=${LAB_CACHE:-/var/cache/sshwarden-test/lab}
LAB_COPY=${LAB_COPY:-overlay}
INCLUDE=systemd,dbus,openssh-server,openssh-client,systemd-sysv,procps,libpam-systemd,man-db,bsdextrautils
# The recipe of a cached root: a root made by another recipe is made again.
# Bump the last field when prepare() changes.
RECIPE="include=$INCLUDE prepare=1"
CG_HIER="systemd unified"   # the hierarchies nspawn uses on a hybrid host
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1

die() { echo "lab.sh: $*" >&2; exit 1; }
ts() { date +%s.%N; }
el() { awk -v a="$1" -v b="$(ts)" 'BEGIN{printf "%.1fs", b-a}'; }
suite_ok() { case $1 in bookworm|trixie) ;; *) die "unknown suite $1 (bookworm, trixie)" ;; esac; }
run_dir() {
	if [ -z "${1:-}" ] || [ ! -d "$1" ]; then die "need an existing RUN directory"; fi
	(cd "$1" && pwd)
}
# The machine (and cgroup) name: the RUN directory's name, which the caller
# makes unique (mktemp -d).
name_of() { basename "$1" | tr -c 'A-Za-z0-9\n-' '-' | cut -c1-60; }

nspawn_pid() {
	local f=$1/nspawn.pid p
	[ -s "$f" ] || return 1
	p=$(cat "$f")
	[ -d "/proc/$p" ] && grep -q systemd-nspawn "/proc/$p/cmdline" 2>/dev/null || return 1
	echo "$p"
}

# The container's PID 1: nspawn's child whose PID in its own namespace is 1.
leader_pid() {
	local n c
	n=$(nspawn_pid "$1") || return 1
	for c in $(ps -o pid= --ppid "$n"); do
		if awk '/^NSpid:/ {exit !($NF == 1)}' "/proc/$c/status" 2>/dev/null; then
			echo "$c"; return 0
		fi
	done
	return 1
}

in_ct() { # run a command inside, with a clean environment
	local l; l=$(leader_pid "$1") || die "$1 is not running"
	shift
	nsenter -t "$l" -a -- /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM="${TERM:-xterm}" LANG=C.UTF-8 "$@"
}

cg_cleanup() {
	local name=$1 h
	for h in $CG_HIER; do
		[ -d "/sys/fs/cgroup/$h/lab-$name" ] || continue
		find "/sys/fs/cgroup/$h/lab-$name" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
}

prepare() { # on the new root, before it is complete; the same for every run
	local dir=$1 suite=$2 name="lab-$2"
	echo "$name" > "$dir/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$name" > "$dir/etc/hosts"
	# a login as root with a key from inside the container
	install -d -m 700 "$dir/root/.ssh"
	chroot "$dir" ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f /root/.ssh/id_ed25519
	cp "$dir/root/.ssh/id_ed25519.pub" "$dir/root/.ssh/authorized_keys"
	chmod 600 "$dir/root/.ssh/authorized_keys"
	printf 'Host 127.0.0.1 localhost\n  StrictHostKeyChecking accept-new\n  UserKnownHostsFile /root/.ssh/known_hosts\n' > "$dir/root/.ssh/config"
	# no getty on the (unconnected) console
	ln -sf /dev/null "$dir/etc/systemd/system/console-getty.service"
	chroot "$dir" apt-get clean
}

root() {
	local suite=$1 dir new t0
	suite_ok "$suite"
	mkdir -p "$LAB_CACHE"
	dir=$LAB_CACHE/$suite new=$LAB_CACHE/.$suite.new
	exec 9> "$LAB_CACHE/.$suite.lock"
	flock -w 1800 9 || die "waited 30 minutes for $LAB_CACHE/.$suite.lock"
	if [ -x "$dir/usr/lib/systemd/systemd" ] && [ "$(cat "$LAB_CACHE/.$suite.done" 2>/dev/null)" = "$RECIPE" ]; then
		echo "$dir"; return 0
	fi
	rm -f "$LAB_CACHE/.$suite.done"
	rm -rf --one-file-system "$new" "$dir"
	t0=$(ts)
	echo "lab.sh: debootstrap $suite into $new (a few minutes; log $LAB_CACHE/.$suite.debootstrap.log)" >&2
	debootstrap --include=$INCLUDE "$suite" "$new" "$MIRROR" > "$LAB_CACHE/.$suite.debootstrap.log" 2>&1 ||
		die "debootstrap failed: see $LAB_CACHE/.$suite.debootstrap.log"
	grep -q "VERSION_CODENAME=$suite" "$new/etc/os-release" || die "$new is not $suite: $(grep PRETTY "$new/etc/os-release")"
	prepare "$new" "$suite"
	mv "$new" "$dir"
	echo "$RECIPE" > "$LAB_CACHE/.$suite.done"
	echo "lab: debootstrap $suite: $(el "$t0")" >&2
	echo "$dir"
}

boot() {
	local suite=$1 run name src t0 l t log
	suite_ok "$suite"
	run=$(run_dir "${2:-}"); name=$(name_of "$run")
	nspawn_pid "$run" >/dev/null && die "$run is already running (nspawn PID $(nspawn_pid "$run"))"
	src=$(root "$suite")
	cg_cleanup "$name"
	log=$run/nspawn.log
	# --system-call-filter=pidfd_getfd: nspawn's own filter refuses it to
	# everything in the container, and the agent's warnings need it.
	local -a nspawn=(systemd-nspawn -M "$name" --boot --private-network --register=no --keep-unit --console=read-only --system-call-filter=pidfd_getfd)
	t0=$(ts)
	case $LAB_COPY in
	copy)
		cp -a "$src" "$run/root"
		echo "lab: copy $suite: $(el "$t0")" >&2
		nspawn+=(-D "$run/root") ;;
	ephemeral)
		nspawn+=(-D "$src" --ephemeral) ;;
	overlay)
		mkdir -p "$run/upper" "$run/work" "$run/root"
		# mounted by the shell below, in a mount namespace of its own that
		# nspawn then lives in: the mount goes when nspawn exits.
		# shellcheck disable=SC2016 # expanded by that shell
		nspawn=(unshare --mount --propagation private sh -c \
			'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/root" && shift 2 && exec "$@"' \
			_ "$src" "$run" "${nspawn[@]}" -D "$run/root") ;;
	*) die "LAB_COPY=overlay|copy|ephemeral" ;;
	esac
	t0=$(ts)
	# nspawn in a cgroup of its own (both hierarchies), detached from us.
	# shellcheck disable=SC2016 # expanded by that shell
	setsid bash -c '
		for h in $1; do mkdir -p "/sys/fs/cgroup/$h/lab-$2"; echo $$ > "/sys/fs/cgroup/$h/lab-$2/cgroup.procs"; done
		shift 2; exec "$@"
	' _ "$CG_HIER" "$name" "${nspawn[@]}" < /dev/null > "$log" 2>&1 &
	echo $! > "$run/nspawn.pid"
	l=
	for _ in $(seq 300); do l=$(leader_pid "$run") && break; sleep 0.1; done
	[ -n "$l" ] || { tail -20 "$log" >&2; die "container did not start (log: $log)"; }
	# wait for systemd's private socket, then for the boot to finish (running, or degraded)
	for _ in $(seq 300); do in_ct "$run" test -S /run/systemd/private && break; sleep 0.1; done
	t=$(in_ct "$run" timeout 120 systemctl is-system-running --wait 2>&1) || true
	echo "lab: boot $suite: $(el "$t0") (LAB_COPY=$LAB_COPY, system $t, machine $name, nspawn PID $(nspawn_pid "$run"), PID 1 = host PID $l)" >&2
	[ "$t" = running ] || { in_ct "$run" systemctl --failed --no-legend >&2 || true; }
	[ -z "${LAB_OWNER:-}" ] || watch_owner "$run" "$LAB_OWNER"
	echo "$l"
}

# watch_owner RUN PID: in the background, stop RUN's container and remove
# RUN once PID (the same process: its start time is checked) has exited;
# it ends by itself when the container stops first.
watch_owner() {
	local run=$1 owner=$2 started self
	started=$(awk '{print $22}' "/proc/$owner/stat" 2>/dev/null) || die "LAB_OWNER=$owner: no such process"
	self=$(realpath "$0")
	# shellcheck disable=SC2016 # expanded by that shell
	setsid bash -c '
		run=$1 owner=$2 started=$3 self=$4
		alive() { [ "$(awk "{print \$22}" /proc/$owner/stat 2>/dev/null)" = "$started" ]; }
		while alive && [ -s "$run/nspawn.pid" ]; do sleep 2; done
		if ! alive && [ -s "$run/nspawn.pid" ]; then
			"$self" stop "$run" && rm -rf --one-file-system "$run"
		fi
	' _ "$run" "$owner" "$started" "$self" < /dev/null > /dev/null 2>&1 &
}

stop() {
	local run name n t0 m
	run=$(run_dir "${1:-}"); name=$(name_of "$run")
	if n=$(nspawn_pid "$run"); then
		t0=$(ts)
		kill -TERM "$n"   # nspawn asks the container's systemd to halt
		for _ in $(seq 600); do [ -d "/proc/$n" ] || break; sleep 0.1; done
		if [ -d "/proc/$n" ]; then echo "lab.sh: $name still running after 60s, SIGKILL to nspawn $n" >&2; kill -KILL "$n"; sleep 1; fi
		echo "lab: stop $name: $(el "$t0")" >&2
	fi
	rm -f "$run/nspawn.pid"
	cg_cleanup "$name"
	m=$(findmnt -rn -o TARGET | grep -F "$run/" || true)
	[ -z "$m" ] || die "still mounted under $run: $m"
	rm -rf --one-file-system "$run/root" "$run/upper" "$run/work"
}

case "${1:-}" in
root) root "${2:-}" ;;
boot) boot "${2:-}" "${3:-}" ;;
exec) r=$(run_dir "${2:-}"); shift 2; [ $# -gt 0 ] || set -- /bin/bash -l; in_ct "$r" "$@" ;;
pid) leader_pid "$(run_dir "${2:-}")" ;;
stop) stop "${2:-}" ;;
*) sed -n "2,24p" "$0" >&2; exit 2 ;;
esac
