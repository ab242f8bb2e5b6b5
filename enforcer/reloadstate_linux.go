package enforcer

// The reload state: reloads that say whether they worked.
//
// `systemctl reload sshwarden` runs `sshwarden agent --reload $MAINPID`
// (the unit's ExecReload=). That command checks the policy as the agent
// would, sends the agent SIGHUP, and waits until the agent says, in its
// reload state file, what it did with that SIGHUP: loaded the policy,
// found it unchanged, or refused it. Its exit status is that answer, so
// systemctl reports a refused policy as a failed reload, and returns only
// once the agent has the new policy in force.
//
// The state file, RUNTIME_DIRECTORY/reload (/run/sshwarden/reload under
// systemd), is rewritten atomically (a temporary file renamed over it) after
// every reload, whatever started it. Only an agent that systemd gave a
// RUNTIME_DIRECTORY writes it, so an agent run by hand (--dry-run) never
// takes the place of the service's:
//
//	version=1
//	pid=1234
//	generation=3
//	trigger=sighup
//	outcome=loaded
//	policy="/etc/sshwarden/policy.conf"
//	in-force-sha256=9f86d0...
//	read-sha256=9f86d0...
//	error=""
//
// The agent's [Supervisor] writes it through a [StateFile]; the command
// reads it with [ReadReloadState]. The reader trusts none of it blindly: the folder and the file must be
// owned by root (or by the reader) and writable by no one else, the file
// must be a regular file of at most stateMaxSize bytes, opened without
// following a symlink, and every line must be exactly the one expected.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coreos/go-systemd/v22/journal"
	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/audit"
)

const (
	stateName     = "reload"
	stateVersion  = "1"
	stateMaxSize  = 16 << 10
	stateErrorMax = 2048 // bytes of the refusal kept in the state file
)

// What started a reload.
const (
	TriggerStart  = "start"  // the agent started (generation 0)
	TriggerSIGHUP = "sighup" // SIGHUP: systemctl reload, or kill -HUP
	TriggerFile   = "file"   // the policy file changed
)

// What the agent did.
const (
	OutcomeLoaded    = "loaded"    // a new version of the policy is in force
	OutcomeUnchanged = "unchanged" // the file is the version in force: nothing to do
	OutcomeRefused   = "refused"   // the file is broken or unreadable; the policy in force stays
)

// DigestNone stands for the digest of a policy file that could not be read.
const DigestNone = "none"

// ReloadState is the content of the state file.
type ReloadState struct {
	PID        int    // the agent's
	Generation uint64 // 0 at start, one more at each reload
	Trigger    string // TriggerStart, TriggerSIGHUP or TriggerFile
	Outcome    string // OutcomeLoaded, OutcomeUnchanged or OutcomeRefused
	Policy     string // an absolute path, or builtin:NAME
	InForce    string // SHA-256 (hex) of the policy in force
	Read       string // SHA-256 of the policy as this reload read it, or DigestNone
	Error      string // why it was refused; "" unless refused
}

var stateKeys = []string{"version", "pid", "generation", "trigger", "outcome", "policy", "in-force-sha256", "read-sha256", "error"}

func (s ReloadState) marshal() []byte {
	vals := []string{stateVersion, strconv.Itoa(s.PID), strconv.FormatUint(s.Generation, 10), s.Trigger, s.Outcome,
		strconv.Quote(s.Policy), s.InForce, s.Read, strconv.Quote(s.Error)}
	var b strings.Builder
	for i, k := range stateKeys {
		b.WriteString(k + "=" + vals[i] + "\n")
	}
	return []byte(b.String())
}

// parseState parses a state file strictly: every key once, in order, each
// value in its one canonical spelling.
func parseState(b []byte) (ReloadState, error) {
	var s ReloadState
	if len(b) > stateMaxSize {
		return s, fmt.Errorf("larger than %d bytes", stateMaxSize)
	}
	text, ok := strings.CutSuffix(string(b), "\n")
	if !ok {
		return s, errors.New("does not end with a newline")
	}
	lines := strings.Split(text, "\n")
	if len(lines) != len(stateKeys) {
		return s, fmt.Errorf("%d lines, want %d", len(lines), len(stateKeys))
	}
	vals := make([]string, len(lines))
	for i, l := range lines {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k != stateKeys[i] {
			return s, fmt.Errorf("line %d: want %s=VALUE", i+1, stateKeys[i])
		}
		vals[i] = v
	}
	bad := func(i int, want string) error {
		return fmt.Errorf("line %d: %s=%.40q: want %s", i+1, stateKeys[i], vals[i], want)
	}
	if vals[0] != stateVersion {
		return s, bad(0, "version "+stateVersion)
	}
	pid, err := strconv.Atoi(vals[1])
	if err != nil || pid <= 0 || strconv.Itoa(pid) != vals[1] {
		return s, bad(1, "a process id")
	}
	gen, err := strconv.ParseUint(vals[2], 10, 64)
	if err != nil || strconv.FormatUint(gen, 10) != vals[2] {
		return s, bad(2, "a number")
	}
	s = ReloadState{PID: pid, Generation: gen, Trigger: vals[3], Outcome: vals[4], InForce: vals[6], Read: vals[7]}
	switch s.Trigger {
	case TriggerStart, TriggerSIGHUP, TriggerFile:
	default:
		return s, bad(3, "start, sighup or file")
	}
	if (s.Trigger == TriggerStart) != (gen == 0) {
		return s, bad(2, "0 exactly for trigger=start")
	}
	switch s.Outcome {
	case OutcomeLoaded, OutcomeUnchanged, OutcomeRefused:
	default:
		return s, bad(4, "loaded, unchanged or refused")
	}
	if s.Policy, err = unquote(vals[5]); err != nil || !validPolicyID(s.Policy) {
		return s, bad(5, "a quoted absolute path or builtin:NAME")
	}
	if !isDigest(s.InForce) {
		return s, bad(6, "a SHA-256 in hex")
	}
	if !isDigest(s.Read) && s.Read != DigestNone {
		return s, bad(7, "a SHA-256 in hex, or "+DigestNone)
	}
	if s.Error, err = unquote(vals[8]); err != nil || (s.Error != "") != (s.Outcome == OutcomeRefused) {
		return s, bad(8, "a quoted string, empty unless outcome=refused")
	}
	return s, nil
}

// unquote is strconv.Unquote of a double-quoted string in the spelling
// strconv.Quote gives it, and nothing else.
func unquote(q string) (string, error) {
	s, err := strconv.Unquote(q)
	if err != nil || strconv.Quote(s) != q {
		return "", errors.New("not a canonical quoted string")
	}
	return s, nil
}

func validPolicyID(p string) bool {
	if strings.ContainsRune(p, 0) {
		return false
	}
	if n, ok := strings.CutPrefix(p, "builtin:"); ok {
		return n != ""
	}
	return filepath.IsAbs(p) && filepath.Clean(p) == p
}

func isDigest(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// digest is the SHA-256 of b, in hex.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// stateError is a refusal as the state file keeps it: one string, cut to
// stateErrorMax bytes of valid UTF-8, never empty.
func stateError(err error) string {
	s := strings.ToValidUTF8(err.Error(), "\uFFFD")
	if len(s) > stateErrorMax {
		s = s[:stateErrorMax]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "...[truncated]"
	}
	if s == "" {
		s = "refused"
	}
	return s
}

// writeState replaces the state file in dir atomically: a new file,
// renamed over the old one, so a reader sees the old state or the new one.
func writeState(dir string, s ReloadState) error {
	f, err := os.CreateTemp(dir, "."+stateName+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	b := s.marshal()
	if len(b) > stateMaxSize {
		err = fmt.Errorf("reload state of %d bytes, more than %d", len(b), stateMaxSize)
	}
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, stateName))
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// ReadReloadState reads the state file in dir, trusting it only when the folder
// and the file belong to root (or to this process's user) and no one else
// can write them.
func ReadReloadState(dir string) (ReloadState, error) {
	path := filepath.Join(dir, stateName)
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return ReloadState{}, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		return ReloadState{}, &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	if err := trusted(dir, &st); err != nil {
		return ReloadState{}, err
	}
	fd, err := unix.Openat(dfd, stateName, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ReloadState{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := unix.Fstat(fd, &st); err != nil {
		return ReloadState{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return ReloadState{}, fmt.Errorf("%s: not a regular file", path)
	}
	if err := trusted(path, &st); err != nil {
		return ReloadState{}, err
	}
	if st.Size > stateMaxSize {
		return ReloadState{}, fmt.Errorf("%s: larger than %d bytes", path, stateMaxSize)
	}
	b, err := io.ReadAll(io.LimitReader(f, stateMaxSize+1))
	if err != nil {
		return ReloadState{}, err
	}
	s, err := parseState(b)
	if err != nil {
		return ReloadState{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// trusted checks that a file is root's (or this user's) and that neither
// its group nor others may write it.
func trusted(path string, st *unix.Stat_t) error {
	if st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s: owned by uid %d, not by root", path, st.Uid)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("%s: writable by group or others (mode %04o)", path, st.Mode&0o7777)
	}
	return nil
}

// StateFile publishes the agent's reload state, and records a failure to
// do so once (until it works again).
type StateFile struct {
	Dir    string // the runtime directory; "": nothing is written
	Audit  audit.Sink
	failed string
}

// Write replaces the state file with s.
func (w *StateFile) Write(s ReloadState) {
	if w.Dir == "" {
		return
	}
	err := writeState(w.Dir, s)
	if err == nil {
		w.failed = ""
		return
	}
	if err.Error() == w.failed {
		return
	}
	w.failed = err.Error()
	w.Audit.Record(audit.Record{Action: audit.ActionError, Priority: journal.PriErr,
		Message: "Cannot write the reload state: " + err.Error() + "; `sshwarden agent --reload` (systemctl reload) cannot confirm reloads.",
		Fields:  map[string]string{"SSHWARDEN_ERROR": err.Error(), "SSHWARDEN_FILE": filepath.Join(w.Dir, stateName)}})
}

// Remove removes the state file when the agent stops, if it is still the
// state of this agent.
func (w *StateFile) Remove() {
	if w.Dir == "" {
		return
	}
	if s, err := ReadReloadState(w.Dir); err == nil && s.PID == os.Getpid() {
		_ = os.Remove(filepath.Join(w.Dir, stateName))
	}
}
