#!/bin/bash
# The agent demo that `make demo` runs: a throwaway sshd on 127.0.0.1, one
# idle and one active SSH session, and `sshwarden agent` with a 20-second
# policy scoped to that sshd (Match LocalPort). It shows the warning arriving
# on the idle session, the close, the active session untouched, and the
# audit records, read back from a journald of the demo's own (a journald
# namespace; the agent reaches it through the standard socket path in a
# mount namespace of its own). Everything is removed at the end; the host's
# sshd, port 22, /etc/ssh and journal are never touched.
#
# Usage (as root): demo/agent.sh [path/to/sshwarden]
set -euo pipefail

BIN=$(realpath "${1:-bin/sshwarden}")
NS=sshwarden-demo
USER_NAME=sshwdemo
JOURNALD=/lib/systemd/systemd-journald

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

if [ "$(id -u)" != 0 ]; then
	echo "demo/agent.sh: run as root (it starts an sshd and a journald of its own)" >&2
	exit 2
fi
if ! [ -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v unshare >/dev/null || ! [ -x $JOURNALD ]; then
	echo "installing openssh-server openssh-client util-linux systemd"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client util-linux systemd >/dev/null
fi

DIR=$(mktemp -d /tmp/sshwarden-demo.XXXXXX)
PIDS=()
created_user=
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$DIR/sshd.pid" ] && kill "$(cat "$DIR/sshd.pid")" 2>/dev/null || true
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	if [ -n "$created_user" ]; then
		pkill -9 -u "$USER_NAME" 2>/dev/null || true
		userdel -r "$USER_NAME" 2>/dev/null || true
	fi
	# The namespace journald's files: its runtime folder and its journal.
	rm -rf "/run/systemd/journal.$NS" /var/log/journal/*."$NS" /run/log/journal/*."$NS" 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT

# A user with a key, no password.
if ! id "$USER_NAME" >/dev/null 2>&1; then
	useradd -m -s /bin/bash "$USER_NAME"
	usermod -p '*' "$USER_NAME"
	created_user=yes
fi
ssh-keygen -q -t ed25519 -N '' -f "$DIR/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$DIR/userkey"
HOME_DIR=$(getent passwd "$USER_NAME" | cut -d: -f6)
install -d -m 0700 -o "$USER_NAME" "$HOME_DIR/.ssh"
install -m 0600 -o "$USER_NAME" "$DIR/userkey.pub" "$HOME_DIR/.ssh/authorized_keys"

# A throwaway sshd on a free port of 127.0.0.1.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
install -d -m 0755 /run/sshd
cat >"$DIR/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $PORT
HostKey $DIR/hostkey
PidFile $DIR/sshd.pid
UsePAM yes
PasswordAuthentication no
AllowUsers $USER_NAME
ClientAliveInterval 300
ClientAliveCountMax 3
EOF
/usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
for _ in $(seq 50); do [ -s "$DIR/sshd.pid" ] && break; sleep 0.1; done

# A journald of the demo's own.
$JOURNALD "$NS" 2>"$DIR/journald.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -S "/run/systemd/journal.$NS/socket" ] && break; sleep 0.1; done

SSH=(ssh -F /dev/null -i "$DIR/userkey" -o IdentitiesOnly=yes -o BatchMode=yes
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
	-p "$PORT" "$USER_NAME@127.0.0.1")

cat >"$DIR/policy.conf" <<EOF
# Leave every session of this host alone but the demo sshd's.
Exempt yes
ScanInterval 2s
Match LocalPort $PORT
    Exempt no
    IdleTimeout 20s
    WarnBefore 10s
EOF

say "Three SSH sessions to a throwaway sshd on 127.0.0.1:$PORT: one idle, one typing every 2 s, one that answers warnings."
setsid "${SSH[@]}" -tt 'echo idle session: logged in; exec sleep 600' >"$DIR/idle.out" 2>&1 </dev/null &
IDLE=$!
PIDS+=($IDLE)
(while :; do echo "ls >/dev/null"; sleep 2; done) | setsid "${SSH[@]}" -tt bash --norc >"$DIR/active.out" 2>&1 &
PIDS+=($!)
# A third one answers each warning with a keystroke, as a user back at
# the keyboard would: the agent records the warning as heeded.
mkfifo "$DIR/heed.in"
setsid "${SSH[@]}" -tt bash --norc <"$DIR/heed.in" >"$DIR/heed.out" 2>&1 &
PIDS+=($!)
exec 3>"$DIR/heed.in"
(answered=0; while :; do
	n=$(grep -c "sshwarden:" "$DIR/heed.out" 2>/dev/null || true)
	if [ "${n:-0}" -gt "$answered" ]; then echo ": back at the keyboard" >&3; answered=$n; fi
	sleep 0.5
done) &
PIDS+=($!)
sleep 3
run "$BIN" sessions --policy "$DIR/policy.conf"

say "The policy (sshd_config syntax; the Match block scopes it to the demo sshd):"
run cat "$DIR/policy.conf"

say "Starting the agent; its audit records go to journald (namespace $NS)."
printf '$ sshwarden agent --policy %s -f %s\n' "$DIR/policy.conf" "$DIR/sshd_config"
unshare --mount --propagation private sh -c \
	"mkdir -p /run/systemd/journal && mount --bind /run/systemd/journal.$NS /run/systemd/journal && exec \"\$@\"" \
	sh "$BIN" agent --policy "$DIR/policy.conf" -f "$DIR/sshd_config" 2>"$DIR/agent.err" &
AGENT=$!
PIDS+=($AGENT)

start=$(date +%s)
for _ in $(seq 45); do kill -0 "$IDLE" 2>/dev/null || break; sleep 1; done
say "What the idle session's terminal showed ($(($(date +%s) - start)) s later, the session is over):"
sed 's/^/    | /' "$DIR/idle.out" | tr -d '\r'

say "What the session that answers showed (a warning, a keystroke; it is still open):"
sed 's/\x1b\[[?0-9;]*[a-zA-Z]//g; s/^/    | /' "$DIR/heed.out" | tr -d '\r' | grep -v '^    | $' || true

say "The active session is still there:"
run "$BIN" sessions --policy "$DIR/policy.conf"

kill -TERM "$AGENT"
wait "$AGENT" 2>/dev/null || true
journalctl --namespace "$NS" --sync 2>/dev/null || true
say "The audit records (journalctl --namespace $NS -t sshwarden):"
journalctl --namespace "$NS" -t sshwarden -o short-iso --no-pager | grep -v '^-- ' || cat "$DIR/agent.err"
say "One record in full (journalctl -o verbose SSHWARDEN_ACTION=close):"
journalctl --namespace "$NS" -o verbose --no-pager SSHWARDEN_ACTION=close | grep -E '^\s+(MESSAGE|MESSAGE_ID|PRIORITY|SYSLOG_IDENTIFIER|SSHWARDEN_[A-Z_]+)=' | sort || true

say "What the trail says, to tune the policy (sshwarden report):"
run "$BIN" report --namespace "$NS"
