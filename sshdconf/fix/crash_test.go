package fix

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// crashEnv names the environment variable that makes [TestCrashHelper]
// run: it holds the name of a JSON file with a [crashSpec].
const crashEnv = "SSHWARDEN_FIX_CRASH_SPEC"

// crashSpec tells [TestCrashHelper] what to do.
type crashSpec struct {
	// Changes are written once, and the helper kills itself when the
	// write reaches Point. If Point is empty, the helper prints "ready"
	// and then swaps the content of each file between Old and New until
	// it is killed (or gives up after helperLimit).
	Changes []Change
	Point   string
}

const helperLimit = 20 * time.Second

// TestCrashHelper is not a test: it is the process that [TestWriteCrash]
// and [TestWriteKilled] run and kill.
func TestCrashHelper(t *testing.T) {
	specFile := os.Getenv(crashEnv)
	if specFile == "" {
		return // run as a test
	}
	b, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	var spec crashSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Point != "" {
		w := writer{crash: func(point string) {
			if point == spec.Point {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				time.Sleep(time.Minute) // the signal is on its way
			}
		}}
		err := w.write(spec.Changes)
		t.Fatalf("write() = %v without reaching %s", err, spec.Point)
	}

	fmt.Println("ready")
	for start := time.Now(); time.Since(start) < helperLimit; {
		var changes []Change
		for _, c := range spec.Changes {
			cur, err := os.ReadFile(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			next := c.New
			if bytes.Equal(cur, c.New) {
				next = c.Old
			}
			changes = append(changes, Change{Path: c.Path, Old: cur, New: next})
		}
		if err := Write(changes); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("not killed within %v", helperLimit)
}

// crashFile is a file of the crash tests.
type crashFile struct {
	name     string
	mode     fs.FileMode
	old, new []byte
}

// crashFiles returns three files of different sizes and modes, one of
// them above 100 KB, so that a torn write would show.
func crashFiles() []crashFile {
	lines := func(format string, n int) []byte {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.Bytes()
	}
	return []crashFile{
		{"10-small.conf", 0o644, []byte("PasswordAuthentication yes\n"), []byte("PasswordAuthentication no\n")},
		{"20-big.conf", 0o600,
			lines("# old line %05d of a big drop-in\nClientAliveInterval 900\n", 2500),
			lines("# new line %05d of a bigger drop-in, with more text\nClientAliveInterval 300\n", 2600)},
		{"30-empty.conf", 0o640, nil, []byte("X11Forwarding no\n")},
	}
}

// makeCrashDir creates the old files in a new directory and returns the
// directory and the changes to their new content.
func makeCrashDir(t *testing.T, files []crashFile) (string, []Change) {
	t.Helper()
	dir := t.TempDir()
	var changes []Change
	for _, f := range files {
		name := filepath.Join(dir, f.name)
		if err := os.WriteFile(name, f.old, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, f.mode); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, Change{Path: name, Old: f.old, New: f.new})
	}
	return dir, changes
}

// helper returns the command of a helper process for spec.
func helper(t *testing.T, spec crashSpec) *exec.Cmd {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(specFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+specFile)
	return cmd
}

// checkKilled checks that err from waiting for a helper says that SIGKILL
// ended it.
func checkKilled(t *testing.T, err error, output []byte) {
	t.Helper()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("helper: %v, want killed by SIGKILL; output:\n%s", err, output)
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper: %v, want killed by SIGKILL; output:\n%s", err, output)
	}
}

// checkOldOrNew checks that each file of dir has its old or its new
// content and its old mode, and that only the files match *.conf. It
// returns, for each file, whether it has its new content, and the
// temporary files in dir.
func checkOldOrNew(t *testing.T, dir string, files []crashFile) (isNew []bool, temps []string) {
	t.Helper()
	var names []string
	for _, f := range files {
		name := filepath.Join(dir, f.name)
		names = append(names, name)
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case bytes.Equal(got, f.new):
			isNew = append(isNew, true)
		case bytes.Equal(got, f.old):
			isNew = append(isNew, false)
		default:
			t.Errorf("%s is neither old nor new: %d bytes, want %d or %d", f.name, len(got), len(f.old), len(f.new))
			isNew = append(isNew, false)
		}
		fi, err := os.Lstat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != f.mode {
			t.Errorf("mode of %s = %v, want %v", f.name, fi.Mode(), f.mode)
		}
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(names, matches); diff != "" {
		t.Errorf("Glob(*.conf) (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if slices.ContainsFunc(files, func(f crashFile) bool { return f.name == e.Name() }) {
			continue
		}
		if !isTemp(e.Name()) {
			t.Errorf("unexpected file %s in %s", e.Name(), dir)
		}
		temps = append(temps, e.Name())
	}
	return isNew, temps
}

// checkRecovers writes the new content of files over what dir holds now,
// and checks that all files are new and no other file is left.
func checkRecovers(t *testing.T, dir string, files []crashFile) {
	t.Helper()
	var changes []Change
	for _, f := range files {
		name := filepath.Join(dir, f.name)
		cur, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, Change{Path: name, Old: cur, New: f.new})
	}
	if err := Write(changes); err != nil {
		t.Fatalf("Write() after the crash: %v", err)
	}
	isNew, temps := checkOldOrNew(t, dir, files)
	if slices.Contains(isNew, false) || len(temps) > 0 {
		t.Errorf("after Write() again: new = %v, temporary files %q; want all new and none", isNew, temps)
	}
}

// TestWriteCrash kills a process that writes three files at each point of
// the write of each file, and checks that each file is old or new, never
// torn, that the files before the point are new and after it old, and that
// a new Write recovers.
func TestWriteCrash(t *testing.T) {
	t.Parallel()
	points := []string{pointTempCreated, pointTempWritten, pointTempSynced, pointRenamed, pointDirSynced}
	files := crashFiles()
	for i := range files {
		for _, p := range points {
			point := fmt.Sprintf("%s:%d", p, i)
			t.Run(point, func(t *testing.T) {
				t.Parallel()
				dir, changes := makeCrashDir(t, files)
				out, err := helper(t, crashSpec{Changes: changes, Point: point}).CombinedOutput()
				checkKilled(t, err, out)

				isNew, temps := checkOldOrNew(t, dir, files)
				renamed := p == pointRenamed || p == pointDirSynced
				var want []bool
				for j := range files {
					want = append(want, j < i || j == i && renamed)
				}
				if diff := cmp.Diff(want, isNew); diff != "" {
					t.Errorf("files with their new content (-want +got):\n%s", diff)
				}
				// The temporary file of a crash before the rename stays,
				// and the next Write removes it.
				wantTemps := 0
				if !renamed {
					wantTemps = 1
				}
				if len(temps) != wantTemps {
					t.Errorf("temporary files %q, want %d", temps, wantTemps)
				}
				if wantTemps == 1 && !strings.HasPrefix(temps[0], "."+files[i].name+".sshwarden-") {
					t.Errorf("temporary file %q, want one of %s", temps[0], files[i].name)
				}

				checkRecovers(t, dir, files)
			})
		}
	}
}

// TestWriteKilled kills a process that swaps the content of three files
// over and over at a random moment, and checks that each file is old or
// new, never torn, and that a new Write recovers.
func TestWriteKilled(t *testing.T) {
	t.Parallel()
	const runs = 20
	files := crashFiles()
	var mixed, withTemp int
	for run := range runs {
		dir, changes := makeCrashDir(t, files)
		cmd := helper(t, crashSpec{Changes: changes})
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(stdout)
		line, err := r.ReadString('\n')
		if line != "ready\n" {
			cmd.Process.Kill()
			rest, _ := io.ReadAll(r)
			cmd.Wait()
			t.Fatalf("run %d: helper said %q (%v), want ready; output:\n%s%s", run, line, err, rest, stderr.Bytes())
		}
		time.Sleep(time.Duration(rand.N(5001)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(r)
		err = cmd.Wait()
		checkKilled(t, err, append(rest, stderr.Bytes()...))

		isNew, temps := checkOldOrNew(t, dir, files)
		if len(temps) > 0 {
			withTemp++
		}
		if slices.Contains(isNew, true) && slices.Contains(isNew, false) {
			mixed++ // some files new, some old: killed between two files
		}
		checkRecovers(t, dir, files)
	}
	t.Logf("%d of %d runs killed with a temporary file, %d between the files of one Write", withTemp, runs, mixed)
}
