package evidence

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// needTool returns the path of a real systemd tool, or fails (CI=true) or
// skips the test.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		sshdtest.Missing(t, name+" is not installed (apt-get install systemd)")
	}
	return p
}

var usecRE = regexp.MustCompile(`(?m)^\s*μs: (\d+)$`)

// TestTimespanAgainstSystemd compares ParseTimespan with systemd's own
// parse_sec, through `systemd-analyze timespan`, on written and random
// spans, valid and not.
func TestTimespanAgainstSystemd(t *testing.T) {
	tool := needTool(t, "systemd-analyze")
	spans := []string{"600", "10min", "10 min", "1h30", "1h 30min", "1.5h", "2m30s", "infinity", "0",
		"15m", "1w", "1M", "1y", "3d 4h", "90s", "500ms", "1us", "1.25min", "10 minutes", "1hr",
		"", "-5", "5x", "min", "1..5s", "1.5.5s", "infinit", "10 min x", "1e3", " 7 sec "}
	r := rand.New(rand.NewPCG(1, 2))
	units := []string{"", "s", "sec", "m", "min", "h", "hours", "d", "w", "ms", "us", "M", "y", "x"}
	for range 60 {
		var b strings.Builder
		for j := range 1 + r.IntN(3) {
			if j > 0 && r.IntN(2) == 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(r.IntN(100)))
			if r.IntN(4) == 0 {
				b.WriteString("." + strconv.Itoa(r.IntN(10)))
			}
			b.WriteString(units[r.IntN(len(units))])
		}
		spans = append(spans, b.String())
	}
	for _, s := range spans {
		out, err := exec.Command(tool, "timespan", s).CombinedOutput()
		m := usecRE.FindSubmatch(out)
		got, perr := ParseTimespan(s)
		if err != nil || m == nil {
			if perr == nil {
				t.Errorf("%q: systemd refuses it (%s), ParseTimespan gives %v", s, strings.TrimSpace(string(out)), got)
			}
			continue
		}
		want, _ := strconv.ParseUint(string(m[1]), 10, 64)
		if perr != nil {
			t.Errorf("%q: systemd reads %d µs, ParseTimespan: %v", s, want, perr)
			continue
		}
		if want == 1<<64-1 {
			if got != Infinity {
				t.Errorf("%q: systemd reads infinity, ParseTimespan %v", s, got)
			}
			continue
		}
		if uint64(got/time.Microsecond) != want {
			t.Errorf("%q: systemd reads %d µs, ParseTimespan %d", s, want, got/time.Microsecond)
		}
	}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLogindFilesAgainstSystemd checks that ReadLogind reads the files
// systemd reads, in its order, with `systemd-analyze cat-config --root`.
func TestLogindFilesAgainstSystemd(t *testing.T) {
	tool := needTool(t, "systemd-analyze")
	dir := writeTree(t, map[string]string{
		"etc/systemd/logind.conf":                       "[Login]\nStopIdleSessionSec=5min\n",
		"usr/lib/systemd/logind.conf.d/50-a.conf":       "[Login]\nStopIdleSessionSec=10min\n",
		"run/systemd/logind.conf.d/50-a.conf":           "[Login]\nKillUserProcesses=yes\n",
		"usr/lib/systemd/logind.conf.d/10-b.conf":       "[Login]\nStopIdleSessionSec=1h\n",
		"etc/systemd/logind.conf.d/99-z.conf":           "[Login]\nStopIdleSessionSec=600\n",
		"usr/local/lib/systemd/logind.conf.d/60-c.conf": "[Login]\n",
		"etc/systemd/logind.conf.d/not-a-dropin.txt":    "[Login]\nStopIdleSessionSec=1s\n",
	})
	out, err := exec.Command(tool, "cat-config", "--root="+dir, "systemd/logind.conf").Output()
	if err != nil {
		t.Fatalf("systemd-analyze cat-config: %v", err)
	}
	var want []string
	for _, line := range strings.Split(string(out), "\n") {
		if f, ok := strings.CutPrefix(line, "# "+dir); ok {
			want = append(want, f)
		}
	}
	l, err := ReadLogind(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(l.Files, " ") != strings.Join(want, " ") {
		t.Errorf("files read:\n got %q\nwant %q (systemd-analyze cat-config)", l.Files, want)
	}
	if l.StopIdleSession != 600*time.Second || l.StopIdleAt != (Pos{"/etc/systemd/logind.conf.d/99-z.conf", 2}) {
		t.Errorf("StopIdleSession = %v at %v, want 10m0s at the last file's line 2", l.StopIdleSession, l.StopIdleAt)
	}
	if !l.KillUserProcesses || l.KillAt.File != "/run/systemd/logind.conf.d/50-a.conf" {
		t.Errorf("KillUserProcesses = %v at %v", l.KillUserProcesses, l.KillAt)
	}
}

// TestLogindBadLines: lines logind ignores are problems naming file and
// line, and the value before them stands; an invalid section header ends
// the reading, later drop-ins included. Measured with systemd 252's logind
// (a booted Debian 12, StopIdleSessionUSec read over D-Bus) on the same
// files: 20min and KillUserProcesses yes for the first, 15min and no for
// the second.
func TestLogindBadLines(t *testing.T) {
	f := "/etc/systemd/logind.conf"
	for _, c := range []struct {
		conf  string
		idle  time.Duration
		at    int
		kill  bool
		probs []string
	}{{
		conf: "#comment\n; other\nStopIdleSessionSec=1s\n[Login]\nStopIdleSessionSec=15min\nStopIdleSessionSec=soon\n" +
			"KillUserProcesses=maybe\ngarbage line\nStopIdleSessionSec = 20 \\\nmin\nStopIdleSessionSec=\n[Other]\nStopIdleSessionSec=1s\n",
		idle: 20 * time.Minute, at: 9, kill: true,
		probs: []string{
			f + ":3: assignment outside of a section, ignored",
			f + `:6: StopIdleSessionSec=soon: no number at "soon"; logind ignores the line`,
			f + ":7: KillUserProcesses=maybe: not a boolean; logind ignores the line",
			f + ":8: missing '=', line ignored",
			f + ":11: StopIdleSessionSec=: empty time span; logind ignores the line",
		},
	}, {
		conf: "[Login]\nStopIdleSessionSec=15min\n[Login\nStopIdleSessionSec=20min\n",
		idle: 15 * time.Minute, at: 2, kill: false,
		probs: []string{f + `:3: invalid section header "[Login": logind reads no further, in this file or the ones after it`},
	}} {
		dir := writeTree(t, map[string]string{
			"etc/systemd/logind.conf":             c.conf,
			"etc/systemd/logind.conf.d/50-k.conf": "[Login]\nKillUserProcesses=yes\n",
		})
		l, err := ReadLogind(os.DirFS(dir))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range l.Problems {
			got = append(got, p.String())
		}
		if strings.Join(got, "\n") != strings.Join(c.probs, "\n") {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.probs, "\n"))
		}
		if l.StopIdleSession != c.idle || l.StopIdleAt != (Pos{f, c.at}) || l.KillUserProcesses != c.kill {
			t.Errorf("StopIdleSession = %v at %v, KillUserProcesses %v; want %v at line %d, %v", l.StopIdleSession, l.StopIdleAt, l.KillUserProcesses, c.idle, c.at, c.kill)
		}
	}
}
