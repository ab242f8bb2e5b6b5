package enforcer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	sumA = strings.Repeat("a", 64)
	sumB = strings.Repeat("0123456789abcdef", 4)
)

func goodState() ReloadState {
	return ReloadState{PID: 1234, Generation: 3, Trigger: TriggerSIGHUP, Outcome: OutcomeRefused,
		Policy: "/etc/sshwarden/policy.conf", InForce: sumA, Read: sumB,
		Error: "/etc/sshwarden/policy.conf:9:5: MaxSessionTime: invalid time \"15x\"\nand \"more\""}
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []ReloadState{
		goodState(),
		{PID: 1, Generation: 0, Trigger: TriggerStart, Outcome: OutcomeLoaded, Policy: "builtin:default", InForce: sumA, Read: sumA},
		{PID: 99, Generation: 18446744073709551615, Trigger: TriggerFile, Outcome: OutcomeRefused, Policy: "/p", InForce: sumA, Read: DigestNone, Error: "open /p: no such file or directory"},
		{PID: 7, Generation: 2, Trigger: TriggerFile, Outcome: OutcomeUnchanged, Policy: "/etc/é\tx", InForce: sumB, Read: sumB},
	} {
		got, err := parseState(s.marshal())
		if err != nil {
			t.Errorf("parseState(%q): %v", s.marshal(), err)
			continue
		}
		if diff := cmp.Diff(s, got); diff != "" {
			t.Errorf("parseState(marshal(s)) differs (-want +got):\n%s", diff)
		}
	}
}

// A state file that is not exactly what the agent writes is refused, with
// the line that is wrong.
func TestParseStateStrict(t *testing.T) {
	t.Parallel()
	good := string(goodState().marshal())
	line := func(key, val string) string { // good, with one line replaced
		var out []string
		for l := range strings.Lines(good) {
			if strings.HasPrefix(l, key+"=") {
				l = key + "=" + val + "\n"
			}
			out = append(out, l)
		}
		return strings.Join(out, "")
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "does not end with a newline"},
		{"no final newline", strings.TrimSuffix(good, "\n"), "does not end with a newline"},
		{"CRLF", strings.ReplaceAll(good, "\n", "\r\n"), "line 1: version=\"1\\r\": want version 1"},
		{"extra line", good + "x=1\n", "10 lines, want 9"},
		{"missing line", strings.Replace(good, "trigger=sighup\n", "", 1), "8 lines, want 9"},
		{"duplicate key", strings.Replace(good, "trigger=sighup\n", "pid=1234\n", 1), "line 4: want trigger=VALUE"},
		{"order", strings.Replace(good, "pid=1234\ngeneration=3\n", "generation=3\npid=1234\n", 1), "line 2: want pid=VALUE"},
		{"space in key", strings.Replace(good, "pid=", "pid =", 1), "line 2: want pid=VALUE"},
		{"version", line("version", "2"), "line 1: version=\"2\": want version 1"},
		{"pid zero", line("pid", "0"), "line 2: pid=\"0\": want a process id"},
		{"pid negative", line("pid", "-1"), "want a process id"},
		{"pid plus", line("pid", "+5"), "want a process id"},
		{"pid leading zero", line("pid", "05"), "want a process id"},
		{"pid space", line("pid", " 5"), "want a process id"},
		{"generation", line("generation", "x"), "line 3: generation=\"x\": want a number"},
		{"generation overflow", line("generation", "18446744073709551616"), "want a number"},
		{"trigger", line("trigger", "SIGHUP"), "line 4: trigger=\"SIGHUP\": want start, sighup or file"},
		{"start not 0", line("trigger", "start"), "line 3: generation=\"3\": want 0 exactly for trigger=start"},
		{"outcome", line("outcome", "ok"), "line 5: outcome=\"ok\": want loaded, unchanged or refused"},
		{"policy unquoted", line("policy", "/etc/p"), "line 6"},
		{"policy relative", line("policy", `"etc/p"`), "want a quoted absolute path or builtin:NAME"},
		{"policy unclean", line("policy", `"/etc/../p"`), "want a quoted absolute path or builtin:NAME"},
		{"policy empty builtin", line("policy", `"builtin:"`), "want a quoted absolute path or builtin:NAME"},
		{"policy NUL", line("policy", `"/etc/p\x00"`), "want a quoted absolute path or builtin:NAME"},
		{"policy not canonical", line("policy", `"/etc/\x70"`), "want a quoted absolute path or builtin:NAME"},
		{"policy backquoted", line("policy", "`/etc/p`"), "want a quoted absolute path or builtin:NAME"},
		{"in force short", line("in-force-sha256", sumA[:63]), "line 7: in-force-sha256"},
		{"in force upper", line("in-force-sha256", strings.ToUpper(sumB)), "want a SHA-256 in hex"},
		{"in force none", line("in-force-sha256", DigestNone), "want a SHA-256 in hex"},
		{"read", line("read-sha256", "sha256:"+sumA), "line 8: read-sha256"},
		{"error unquoted", line("error", "oops"), "line 9: error"},
		{"refused without error", line("error", `""`), "empty unless outcome=refused"},
		{"error not refused", strings.Replace(good, "outcome=refused", "outcome=loaded", 1), "empty unless outcome=refused"},
		{"too big", good + strings.Repeat("#", stateMaxSize), "larger than 16384 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseState([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseState(%q) = %v, want an error with %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestWriteReadState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := ReadReloadState(dir); !os.IsNotExist(err) {
		t.Errorf("ReadReloadState of an empty folder: %v, want not exist", err)
	}
	s := goodState()
	for i := range 3 {
		s.Generation = uint64(i + 1)
		if err := writeState(dir, s); err != nil {
			t.Fatal(err)
		}
		got, err := ReadReloadState(dir)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, got); diff != "" {
			t.Errorf("ReadReloadState after writeState (-want +got):\n%s", diff)
		}
	}
	// Nothing left behind but the state file, mode 0644.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != stateName {
		t.Errorf("folder after three writes: %v, want only %s", ents, stateName)
	}
	if fi, err := os.Stat(filepath.Join(dir, stateName)); err != nil || fi.Mode() != 0o644 {
		t.Errorf("state file: %v, %v; want mode 0644", fi.Mode(), err)
	}
	// Too large to write: refused, and the old state stays.
	big := s
	big.Policy = "/" + strings.Repeat("p", stateMaxSize)
	if err := writeState(dir, big); err == nil {
		t.Errorf("writeState of %d bytes: no error", len(big.marshal()))
	}
	if got, err := ReadReloadState(dir); err != nil || got != s {
		t.Errorf("after a refused write: %v, %v; want the previous state", got, err)
	}
}

// A state file an attacker could have planted is not believed.
func TestReadStateUntrusted(t *testing.T) {
	t.Parallel()
	good := goodState().marshal()
	plant := func(t *testing.T, f func(dir, path string) error) string {
		t.Helper()
		dir := t.TempDir()
		if err := f(dir, filepath.Join(dir, stateName)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	write := func(mode os.FileMode) func(dir, path string) error {
		return func(dir, path string) error {
			if err := os.WriteFile(path, good, 0o600); err != nil {
				return err
			}
			return os.Chmod(path, mode)
		}
	}
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		want string
	}{
		{"group-writable file", func(t *testing.T) string { return plant(t, write(0o664)) }, "writable by group or others (mode 0664)"},
		{"world-writable file", func(t *testing.T) string { return plant(t, write(0o646)) }, "writable by group or others (mode 0646)"},
		{"world-writable folder", func(t *testing.T) string {
			return plant(t, func(dir, path string) error {
				if err := write(0o644)(dir, path); err != nil {
					return err
				}
				return os.Chmod(dir, 0o777)
			})
		}, "writable by group or others (mode 0777)"},
		{"symlink", func(t *testing.T) string {
			return plant(t, func(dir, path string) error {
				other := filepath.Join(dir, "other")
				if err := os.WriteFile(other, good, 0o644); err != nil {
					return err
				}
				return os.Symlink(other, path)
			})
		}, "too many levels of symbolic links"},
		{"symlinked folder", func(t *testing.T) string {
			real := plant(t, write(0o644))
			link := filepath.Join(t.TempDir(), "run")
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "not a directory"},
		{"fifo", func(t *testing.T) string {
			return plant(t, func(dir, path string) error { return syscall.Mkfifo(path, 0o644) })
		}, "not a regular file"},
		{"folder", func(t *testing.T) string {
			return plant(t, func(dir, path string) error { return os.Mkdir(path, 0o755) })
		}, "not a regular file"},
		{"huge", func(t *testing.T) string {
			return plant(t, func(dir, path string) error {
				return os.WriteFile(path, append(bytes.Repeat([]byte("#"), stateMaxSize), good...), 0o644)
			})
		}, "larger than 16384 bytes"},
		{"garbage", func(t *testing.T) string {
			return plant(t, func(dir, path string) error { return os.WriteFile(path, []byte("pid=1\n"), 0o644) })
		}, "reload: 1 lines, want 9"},
	}
	if os.Geteuid() == 0 {
		tests = append(tests, struct {
			name string
			dir  func(t *testing.T) string
			want string
		}{"someone else's file", func(t *testing.T) string {
			return plant(t, func(dir, path string) error {
				if err := write(0o644)(dir, path); err != nil {
					return err
				}
				return os.Lchown(path, 65534, 65534)
			})
		}, "owned by uid 65534, not by root"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := tt.dir(t)
			_, err := ReadReloadState(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadReloadState(%s) = %v, want an error with %q", tt.name, err, tt.want)
			}
		})
	}
}

// An agent removes the state file when it stops only if it is its own:
// another agent's (a restart's) stays.
func TestStateWriterRemove(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := &StateFile{Dir: dir}
	other := goodState()
	other.PID = os.Getpid() + 1
	w.Write(other)
	w.Remove()
	if _, err := ReadReloadState(dir); err != nil {
		t.Errorf("remove took another agent's state: %v", err)
	}
	mine := other
	mine.PID = os.Getpid()
	w.Write(mine)
	w.Remove()
	if _, err := os.Lstat(filepath.Join(dir, stateName)); !os.IsNotExist(err) {
		t.Errorf("remove left the agent's own state: %v", err)
	}
	(&StateFile{}).Write(mine) // no RUNTIME_DIRECTORY: nothing, no panic
}
