package host

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
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

	// Commit, if set, replaces Changes: the helper does what `sshwarden
	// fix -w --root` does once it has its plan (see [commit]), killed at
	// Point of the writes or, without Point, swapping the tree between
	// the old and the new content of every file until it is killed.
	Commit *commitSpec

	// Check, if set, replaces Changes: the helper runs one check, and
	// kills itself once it is staged if Kill, or waits to be killed.
	Check *checkSpec
}

// commitSpec is a tree and the plan of a fix of it.
type commitSpec struct {
	Root, Main string
	Files      []fix.FileChange
}

// checkSpec is what [Checker.Check] gets in the helper.
type checkSpec struct {
	Root, SSHD, Config string
	Copy, Kill         bool
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
	killAt := func(at string) func(string) {
		return func(point string) {
			if point == at {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				time.Sleep(time.Minute) // the signal is on its way
			}
		}
	}
	switch {
	case spec.Check != nil:
		helperCheck(t, spec.Check, killAt(pointStaged))
		return
	case spec.Commit != nil:
		helperCommit(t, spec.Commit, spec.Point, killAt(spec.Point))
		return
	}
	if spec.Point != "" {
		w := writer{t: hostTree(t), crash: killAt(spec.Point)}
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
		killAtRandom(t, run, crashSpec{Changes: changes}, 5001*time.Microsecond)

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

// hostTree opens "/" as [Write] does.
func hostTree(t *testing.T) *tree {
	t.Helper()
	tr, err := openTree("/")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// needSSHD skips the test where the real sshd -t cannot run (it needs root
// and sshd), and fails it with CI=true.
func needSSHD(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "checking with sshd -t needs root"
	} else if _, err := os.Stat(DefaultSSHD); err != nil {
		why = err.Error()
	}
	if why == "" {
		return
	}
	sshdtest.Missing(t, why)
}

// loadTree loads the configuration of the tree root whose main file is
// main, as fix --root does.
func loadTree(t *testing.T, root, main string) *sshdconf.Config {
	t.Helper()
	cfg, err := sshdconf.Load(os.DirFS(root), main, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// commit does what `sshwarden fix -w --root root` does once sshd -t
// accepted the old and the new configuration: it orders files with the
// real sshd -t ([fix.Order] and a [Checker] of the tree) and writes them with
// [WriteIn]; crash, if not nil, is called at the points of the writes.
func commit(ctx context.Context, root string, cfg *sshdconf.Config, files []fix.FileChange, crash func(string)) error {
	k := &Checker{Root: root}
	ordered, err := fix.Order(cfg, files, func(ch []fix.FileChange) error { return k.Check(ctx, cfg, ch) })
	if err != nil {
		return err
	}
	var changes []Change
	for _, fc := range ordered {
		changes = append(changes, Change{Path: cfg.Path(fc.Name), Old: fc.Old, New: fc.New})
	}
	tr, err := openTree(root)
	if err != nil {
		return err
	}
	defer tr.close()
	w := writer{t: tr, inTree: true, crash: crash}
	return w.write(changes)
}

// helperCommit commits spec's plan once, killed at point, or swaps the
// tree between the old and the new content of its files until killed.
func helperCommit(t *testing.T, spec *commitSpec, point string, crash func(string)) {
	ctx := context.Background()
	if point != "" {
		err := commit(ctx, spec.Root, loadTree(t, spec.Root, spec.Main), spec.Files, crash)
		t.Fatalf("commit() = %v without reaching %s", err, point)
	}
	// The order of each way (old to new, new to old) is chosen once by
	// the real sshd -t, so that most of the time goes to writing, and
	// kills land between the files.
	orders := map[bool][]fix.FileChange{}
	for _, forward := range []bool{true, false} {
		var files []fix.FileChange
		for _, fc := range spec.Files {
			if !forward {
				fc.Old, fc.New = fc.New, fc.Old
			}
			files = append(files, fc)
		}
		cfg := loadTree(t, spec.Root, spec.Main)
		if !forward {
			var err error
			if cfg, err = cfg.With(map[string][]byte{spec.Files[0].Name: spec.Files[0].New, spec.Files[1].Name: spec.Files[1].New}); err != nil {
				t.Fatal(err)
			}
		}
		k := &Checker{Root: spec.Root}
		ordered, err := fix.Order(cfg, files, func(ch []fix.FileChange) error { return k.Check(ctx, cfg, ch) })
		if err != nil {
			t.Fatal(err)
		}
		orders[forward] = ordered
	}
	fmt.Println("ready")
	tr, err := openTree(spec.Root)
	if err != nil {
		t.Fatal(err)
	}
	for start, forward := time.Now(), true; time.Since(start) < helperLimit; forward = !forward {
		var changes []Change
		for _, fc := range orders[forward] {
			changes = append(changes, Change{Path: fc.Name, Old: fc.Old, New: fc.New})
		}
		w := writer{t: tr, inTree: true}
		if err := w.write(changes); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("not killed within %v", helperLimit)
}

// helperCheck runs one check of spec; crash kills the helper once the
// check is staged if spec.Kill.
func helperCheck(t *testing.T, spec *checkSpec, crash func(string)) {
	main := spec.Config
	fsys := fs.FS(os.DirFS("/"))
	if spec.Root != "" {
		fsys = os.DirFS(spec.Root)
	}
	cfg, err := sshdconf.Load(fsys, main, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := &Checker{Root: spec.Root, SSHD: spec.SSHD, Copy: spec.Copy}
	if spec.Kill {
		k.crash = crash
	}
	err = k.Check(context.Background(), cfg, []fix.FileChange{{Name: main, New: []byte("ClientAliveInterval 300\n")}})
	t.Fatalf("Check() = %v, want to be killed during it", err)
}

// interdependentCase is a tree whose plan changes two files that must be
// written in one order: the other passes through a configuration that
// sshd refuses.
type interdependentCase struct {
	name       string
	main, drop [2]string // old and new content
	first      string    // the file to write first
}

const (
	ccMain = "/etc/ssh/sshd_config"
	ccDrop = "/etc/ssh/sshd_config.d/10-site.conf"
)

func interdependentCases() []interdependentCase {
	inc := "Include /etc/ssh/sshd_config.d/*.conf\n"
	return []interdependentCase{
		{
			// The main file gains AuthorizedKeysCommand, which needs the
			// AuthorizedKeysCommandUser the drop-in gains; and the
			// Subsystem moves from the drop-in to the main file: either
			// way, a new main file with the old drop-in is refused.
			name:  "drop-in first",
			main:  [2]string{inc + "ClientAliveInterval 0\n", inc + "ClientAliveInterval 300\nAuthorizedKeysCommand /usr/bin/true %u\nSubsystem sftp internal-sftp\n"},
			drop:  [2]string{"Subsystem sftp internal-sftp\n", "AuthorizedKeysCommandUser nobody\n"},
			first: ccDrop,
		},
		{
			// The Subsystem moves from the main file to the drop-in: both
			// new would define it twice with the old main file.
			name:  "main file first",
			main:  [2]string{inc + "Subsystem sftp /usr/lib/openssh/sftp-server\nClientAliveInterval 0\n", inc + "ClientAliveInterval 300\n"},
			drop:  [2]string{"MaxAuthTries 3\n", "MaxAuthTries 3\nSubsystem sftp internal-sftp\n"},
			first: ccMain,
		},
	}
}

// makeTree makes a --root tree with the old content of c's files and
// returns its folder and the plan that makes them new.
func (c interdependentCase) makeTree(t *testing.T) (string, []fix.FileChange) {
	t.Helper()
	root := t.TempDir()
	files := []fix.FileChange{
		{Name: ccMain, Old: []byte(c.main[0]), New: []byte(c.main[1])},
		{Name: ccDrop, Old: []byte(c.drop[0]), New: []byte(c.drop[1])},
	}
	for _, fc := range files {
		p := filepath.Join(root, fc.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, fc.Old, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, files
}

// checkTreeState checks that each file of the tree is old or new, and that
// the real sshd -t accepts the tree as it is on disk; it returns which
// files are new.
func checkTreeState(t *testing.T, root string, files []fix.FileChange) []bool {
	t.Helper()
	var isNew []bool
	for _, fc := range files {
		got, err := os.ReadFile(filepath.Join(root, fc.Name))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case bytes.Equal(got, fc.New):
			isNew = append(isNew, true)
		case bytes.Equal(got, fc.Old):
			isNew = append(isNew, false)
		default:
			t.Errorf("%s is neither old nor new: %q", fc.Name, got)
			isNew = append(isNew, false)
		}
	}
	k := &Checker{Root: root}
	if err := k.Check(context.Background(), loadTree(t, root, ccMain), nil); err != nil {
		t.Errorf("sshd -t on the tree as a kill left it (new: %v): %v", isNew, err)
	}
	return isNew
}

// TestOrderModelCases: with no check, the sshdconf model alone orders
// the interdependent cases.
func TestOrderModelCases(t *testing.T) {
	t.Parallel()
	for _, c := range interdependentCases() {
		cfg, err := sshdconf.Parsed([]*sshdconf.File{sshdconf.Parse(ccMain, []byte(c.main[0])), sshdconf.Parse(ccDrop, []byte(c.drop[0]))}, ccMain, nil)
		if err != nil {
			t.Fatal(err)
		}
		files := []fix.FileChange{
			{Name: ccMain, Old: []byte(c.main[0]), New: []byte(c.main[1])},
			{Name: ccDrop, Old: []byte(c.drop[0]), New: []byte(c.drop[1])},
		}
		got, err := fix.Order(cfg, files, nil)
		if err != nil || got[0].Name != c.first {
			var names []string
			for _, fc := range got {
				names = append(names, fc.Name[strings.LastIndex(fc.Name, "/")+1:])
			}
			t.Errorf("%s: Order() = %q, %v; want %s first", c.name, names, err, c.first)
		}
	}
}

// TestInterdependentCases checks that the cases are what they claim with
// the real sshd -t: old and new accepted, the wrong mix refused.
func TestInterdependentCases(t *testing.T) {
	needSSHD(t)
	t.Parallel()
	for _, c := range interdependentCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			root, files := c.makeTree(t)
			cfg := loadTree(t, root, ccMain)
			k := &Checker{Root: root}
			ctx := context.Background()
			if err := k.Check(ctx, cfg, nil); err != nil {
				t.Errorf("sshd -t on the old tree: %v", err)
			}
			if err := k.Check(ctx, cfg, files); err != nil {
				t.Errorf("sshd -t on the new tree: %v", err)
			}
			for _, fc := range files {
				var r *fix.SSHDRefused
				err := k.Check(ctx, cfg, []fix.FileChange{fc})
				if good := fc.Name == c.first; good != (err == nil) || !good && !errors.As(err, &r) {
					t.Errorf("sshd -t with only %s new = %v, want refused: %v", fc.Name, err, !good)
				}
			}
		})
	}
}

// TestCommitCrash kills the process that writes a plan of two files that
// depend on each other, at each point of the write of each file, and
// checks with the real sshd -t that the tree it leaves is one sshd
// accepts, each file old or new; the next run completes it.
func TestCommitCrash(t *testing.T) {
	needSSHD(t)
	t.Parallel()
	points := []string{pointTempCreated, pointTempWritten, pointTempSynced, pointRenamed, pointDirSynced}
	for _, c := range interdependentCases() {
		for i := range 2 {
			for _, p := range points {
				point := fmt.Sprintf("%s:%d", p, i)
				t.Run(c.name+"/"+point, func(t *testing.T) {
					t.Parallel()
					root, files := c.makeTree(t)
					out, err := helper(t, crashSpec{Commit: &commitSpec{Root: root, Main: ccMain, Files: files}, Point: point}).CombinedOutput()
					checkKilled(t, err, out)

					isNew := checkTreeState(t, root, files)
					written := i
					if p == pointRenamed || p == pointDirSynced {
						written++
					}
					if n := strings.Count(fmt.Sprint(isNew), "true"); n != written {
						t.Errorf("new files %v, want %d written", isNew, written)
					}
					if written == 1 && !isNew[slices.IndexFunc(files, func(fc fix.FileChange) bool { return fc.Name == c.first })] {
						t.Errorf("new files %v: %s was not written first", isNew, c.first)
					}

					var again []fix.FileChange
					for _, fc := range files {
						cur, err := os.ReadFile(filepath.Join(root, fc.Name))
						if err != nil {
							t.Fatal(err)
						}
						again = append(again, fix.FileChange{Name: fc.Name, Old: cur, New: fc.New})
					}
					if err := commit(context.Background(), root, loadTree(t, root, ccMain), again, nil); err != nil {
						t.Fatalf("commit after the kill: %v", err)
					}
					if isNew := checkTreeState(t, root, files); slices.Contains(isNew, false) {
						t.Errorf("after the next run: new files %v, want all", isNew)
					}
					checkNoTemps(t, root)
				})
			}
		}
	}
}

// checkNoTemps checks that no temporary file of Write is left in the tree.
func checkNoTemps(t *testing.T, root string) {
	t.Helper()
	for _, name := range listDir(t, root) {
		if isTemp(path.Base(name)) {
			t.Errorf("temporary file %s left in the tree", name)
		}
	}
}

// TestCommitKilled kills, at a random moment, a process that swaps a tree
// between the old and the new content of two files that depend on each
// other, as fix -w would write them, and checks with the real sshd -t
// that sshd accepts what each kill leaves.
func TestCommitKilled(t *testing.T) {
	needSSHD(t)
	t.Parallel()
	const runs = 20
	for _, c := range interdependentCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var mixed int
			for run := range runs {
				root, files := c.makeTree(t)
				killAtRandom(t, run, crashSpec{Commit: &commitSpec{Root: root, Main: ccMain, Files: files}}, 50000*time.Microsecond)
				isNew := checkTreeState(t, root, files)
				if slices.Contains(isNew, true) && slices.Contains(isNew, false) {
					mixed++
				}
			}
			t.Logf("%d of %d runs killed between the two files", mixed, runs)
		})
	}
}

// TestCommitInterdependent: when each of two files needs the other new
// (the real sshd -t refuses both mixes), nothing is written.
func TestCommitInterdependent(t *testing.T) {
	needSSHD(t)
	t.Parallel()
	c := interdependentCase{
		main: [2]string{"Include /etc/ssh/sshd_config.d/*.conf\nSubsystem sftp internal-sftp\n", "Include /etc/ssh/sshd_config.d/*.conf\nAuthorizedKeysCommand /usr/bin/true %u\n"},
		drop: [2]string{"MaxAuthTries 3\n", "AuthorizedKeysCommandUser nobody\nSubsystem sftp internal-sftp\n"},
	}
	root, files := c.makeTree(t)
	cfg := loadTree(t, root, ccMain)
	k := &Checker{Root: root}
	ctx := context.Background()
	for _, fc := range files {
		var r *fix.SSHDRefused
		if err := k.Check(ctx, cfg, []fix.FileChange{fc}); !errors.As(err, &r) {
			t.Fatalf("sshd -t with only %s new = %v, want refused", fc.Name, err)
		}
	}
	err := commit(ctx, root, cfg, files, nil)
	var inter *fix.Interdependent
	if !errors.As(err, &inter) {
		t.Fatalf("commit() = %v, want *Interdependent", err)
	}
	if isNew := checkTreeState(t, root, files); slices.Contains(isNew, true) {
		t.Errorf("new files %v after a refused commit, want none", isNew)
	}
}

// killAtRandom starts the helper on spec, waits for its "ready", and
// SIGKILLs it at a random moment within the next upTo; the kill must be
// what ended it.
func killAtRandom(t *testing.T, run int, spec crashSpec, upTo time.Duration) {
	t.Helper()
	cmd := helper(t, spec)
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
	time.Sleep(time.Duration(rand.N(int64(upTo/time.Microsecond))) * time.Microsecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	err = cmd.Wait()
	checkKilled(t, err, append(rest, stderr.Bytes()...))
}
