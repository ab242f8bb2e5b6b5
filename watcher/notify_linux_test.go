package watcher

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/google/go-cmp/cmp"
)

// Bounds of the waits of the FileWatch tests, generous for a loaded 2-core
// machine: an expected event must come within eventWait, and no other event
// may come within quietWait after it.
const (
	eventWait = 5 * time.Second
	quietWait = 500 * time.Millisecond
)

// watchFiles starts a FileWatch of the paths and globs, relative to dir,
// closed when the test ends.
func watchFiles(t *testing.T, dir string, paths, globs []string, opts ...WatchOption) *FileWatch {
	t.Helper()
	w, err := WatchFiles(join(dir, paths), join(dir, globs), opts...)
	if err != nil {
		t.Fatalf("WatchFiles: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func join(dir string, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, filepath.Join(dir, n))
	}
	return out
}

// nextEvent returns the next event, failing the test on an error or when
// none comes within eventWait.
func nextEvent(t *testing.T, w *FileWatch) []string {
	t.Helper()
	timeout := time.After(eventWait)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatal("Events closed")
			}
			return ev
		case err, ok := <-w.Errors():
			if ok {
				t.Fatalf("Errors: %v", err)
			}
		case <-timeout:
			t.Fatalf("no event within %v", eventWait)
		}
	}
}

// expectEvent checks that the next event is want (names relative to dir),
// and that no other event follows within quietWait.
func expectEvent(t *testing.T, w *FileWatch, dir string, want ...string) {
	t.Helper()
	if diff := cmp.Diff(join(dir, want), nextEvent(t, w)); diff != "" {
		t.Fatalf("event (-want +got):\n%s", diff)
	}
	expectQuiet(t, w, quietWait)
}

// expectQuiet checks that no event and no error comes within d.
func expectQuiet(t *testing.T, w *FileWatch, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev := <-w.Events():
			t.Fatalf("unexpected event %q", ev)
		case err := <-w.Errors():
			t.Fatalf("unexpected error: %v", err)
		case <-timeout:
			return
		}
	}
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// replace writes name the way `sshwarden fix -w` and editors do: a
// temporary file in the same folder, renamed over name.
func replace(t *testing.T, name, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".sshwarden-0123456789abcdef")
	write(t, tmp, content)
	must(t, os.Chmod(tmp, 0o600))
	must(t, os.Rename(tmp, name))
}

// TestFileWatchChanges makes each kind of change to a watched file or
// folder and checks that it gives exactly the expected event: the names
// that changed, in one batch, and nothing more.
func TestFileWatchChanges(t *testing.T) {
	t.Parallel()
	paths := []string{"sshd_config"}
	globs := []string{"sshd_config.d/*.conf"}
	type step struct {
		do   func(t *testing.T, dir string)
		want []string // relative to dir; nil: no event
	}
	tests := []struct {
		name         string
		before       map[string]string // files made before WatchFiles
		paths, globs []string          // default: paths, globs
		steps        []step
	}{
		{"write in place", map[string]string{"sshd_config": "a\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sshd_config"), "b\n") }, []string{"sshd_config"}},
		}},
		{"append", map[string]string{"sshd_config": "a\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) {
				f, err := os.OpenFile(filepath.Join(dir, "sshd_config"), os.O_WRONLY|os.O_APPEND, 0)
				must(t, err)
				_, err = f.WriteString("Port 22\n")
				must(t, err)
				must(t, f.Close())
			}, []string{"sshd_config"}},
		}},
		{"rename over", map[string]string{"sshd_config": "a\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) { replace(t, filepath.Join(dir, "sshd_config"), "b\n") }, []string{"sshd_config"}},
		}},
		{"delete then re-create", map[string]string{"sshd_config": "a\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "sshd_config"))) }, []string{"sshd_config"}},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sshd_config"), "b\n") }, []string{"sshd_config"}},
		}},
		{"renamed away", map[string]string{"sshd_config": "a\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) {
				must(t, os.Rename(filepath.Join(dir, "sshd_config"), filepath.Join(dir, "sshd_config.bak")))
			}, []string{"sshd_config"}},
		}},
		{"chmod world-writable", map[string]string{"sshd_config": "a\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, "sshd_config"), 0o666)) }, []string{"sshd_config"}},
		}},
		{"path missing at start", nil, nil, nil, []step{
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sshd_config"), "a\n") }, []string{"sshd_config"}},
		}},
		{"drop-in created", map[string]string{"sshd_config.d/00-policy.conf": "x\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "sshd_config.d/50-cloud-init.conf"), "PasswordAuthentication yes\n")
			}, []string{"sshd_config.d/50-cloud-init.conf"}},
		}},
		{"drop-in renamed in, changed, deleted", map[string]string{"sshd_config.d/00-policy.conf": "x\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) { replace(t, filepath.Join(dir, "sshd_config.d/00-policy.conf"), "y\n") }, []string{"sshd_config.d/00-policy.conf"}},
			{func(t *testing.T, dir string) {
				must(t, os.Chmod(filepath.Join(dir, "sshd_config.d/00-policy.conf"), 0o600))
			}, []string{"sshd_config.d/00-policy.conf"}},
			{func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "sshd_config.d/00-policy.conf"))) }, []string{"sshd_config.d/00-policy.conf"}},
		}},
		{"glob folder created later", map[string]string{"sshd_config": "a\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "sshd_config.d"), 0o755)) }, nil},
			{func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "sshd_config.d/50-cloud-init.conf"), "x\n")
			}, []string{"sshd_config.d/50-cloud-init.conf"}},
		}},
		{"three folders missing", nil, []string{"etc/ssh/sshd_config"}, []string{"etc/ssh/sshd_config.d/*.conf"}, []step{
			{func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "etc/ssh/sshd_config.d/50-cloud-init.conf"), "x\n")
			}, []string{"etc/ssh/sshd_config.d/50-cloud-init.conf"}},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "etc/ssh/sshd_config"), "x\n") }, []string{"etc/ssh/sshd_config"}},
		}},
		{"folder appears with files in it", nil, nil, nil, []step{
			// The files exist before the folder is in place: only the
			// listing of the newly watched folder can find them.
			{func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "staging/10-a.conf"), "x\n")
				write(t, filepath.Join(dir, "staging/README"), "x\n")
				must(t, os.Rename(filepath.Join(dir, "staging"), filepath.Join(dir, "sshd_config.d")))
			}, []string{"sshd_config.d/10-a.conf"}},
		}},
		{"folder deleted and re-created", map[string]string{"sshd_config.d/10-a.conf": "x\n", "sshd_config.d/20-b.conf": "x\n", "sshd_config.d/notes.txt": "x\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) { must(t, os.RemoveAll(filepath.Join(dir, "sshd_config.d"))) }, []string{"sshd_config.d/10-a.conf", "sshd_config.d/20-b.conf"}},
			{func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "sshd_config.d"), 0o755)) }, nil},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sshd_config.d/30-c.conf"), "x\n") }, []string{"sshd_config.d/30-c.conf"}},
		}},
		{"folder deleted, parent not watched", map[string]string{"sshd_config.d/10-a.conf": "x\n"}, []string{}, nil, []step{
			{func(t *testing.T, dir string) { must(t, os.RemoveAll(filepath.Join(dir, "sshd_config.d"))) }, []string{"sshd_config.d/10-a.conf"}},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sshd_config.d/30-c.conf"), "x\n") }, []string{"sshd_config.d/30-c.conf"}},
		}},
		{"folder renamed away", map[string]string{"sshd_config.d/10-a.conf": "x\n", "sshd_config.d/20-b.conf": "x\n"}, nil, nil, []step{
			{func(t *testing.T, dir string) {
				must(t, os.Rename(filepath.Join(dir, "sshd_config.d"), filepath.Join(dir, "old.d")))
			}, []string{"sshd_config.d/10-a.conf", "sshd_config.d/20-b.conf"}},
			// The old folder is no longer watched.
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "old.d/10-a.conf"), "y\n") }, nil},
		}},
		{"folder replaced by a rename", map[string]string{"sshd_config.d/10-a.conf": "x\n"}, []string{}, nil, []step{
			{func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "new.d/30-c.conf"), "x\n")
				must(t, os.Rename(filepath.Join(dir, "sshd_config.d"), filepath.Join(dir, "old.d")))
				must(t, os.Rename(filepath.Join(dir, "new.d"), filepath.Join(dir, "sshd_config.d")))
			}, []string{"sshd_config.d/10-a.conf", "sshd_config.d/30-c.conf"}},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sshd_config.d/30-c.conf"), "y\n") }, []string{"sshd_config.d/30-c.conf"}},
		}},
		{"empty folder replaced by a rename over it", nil, nil, nil, []step{
			{func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "sshd_config.d"), 0o755)) }, nil},
			// One rename(2) replaces the folder: same name, another inode.
			// (os.Rename refuses to replace a folder.)
			{func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "new.d/30-c.conf"), "x\n")
				must(t, syscall.Rename(filepath.Join(dir, "new.d"), filepath.Join(dir, "sshd_config.d")))
			}, []string{"sshd_config.d/30-c.conf"}},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sshd_config.d/30-c.conf"), "y\n") }, []string{"sshd_config.d/30-c.conf"}},
		}},
		{"empty folder replaced, parent not watched", nil, []string{}, nil, []step{
			{func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "sshd_config.d"), 0o755)) }, nil},
			{func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "new.d/30-c.conf"), "x\n")
				must(t, syscall.Rename(filepath.Join(dir, "new.d"), filepath.Join(dir, "sshd_config.d")))
			}, []string{"sshd_config.d/30-c.conf"}},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sshd_config.d/30-c.conf"), "y\n") }, []string{"sshd_config.d/30-c.conf"}},
		}},
		{"glob with a folder pattern", nil, []string{}, []string{"conf.d/*/x.conf"}, []step{
			{func(t *testing.T, dir string) { must(t, os.MkdirAll(filepath.Join(dir, "conf.d/a"), 0o755)) }, nil},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "conf.d/a/x.conf"), "x\n") }, []string{"conf.d/a/x.conf"}},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "conf.d/a/y.conf"), "x\n") }, nil},
			{func(t *testing.T, dir string) { write(t, filepath.Join(dir, "conf.d/.hidden/x.conf"), "x\n") }, nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, content := range tt.before {
				write(t, filepath.Join(dir, name), content)
			}
			p, g := paths, globs
			if tt.paths != nil {
				p = tt.paths
			}
			if tt.globs != nil {
				g = tt.globs
			}
			w := watchFiles(t, dir, p, g)
			for i, s := range tt.steps {
				s.do(t, dir)
				if s.want == nil {
					expectQuiet(t, w, quietWait)
					continue
				}
				if diff := cmp.Diff(join(dir, s.want), nextEvent(t, w)); diff != "" {
					t.Fatalf("step %d: event (-want +got):\n%s", i, diff)
				}
				expectQuiet(t, w, quietWait)
			}
		})
	}
}

// TestFileWatchUnrelated changes files next to the watched ones that sshd
// would not read, and checks that none gives an event; then that a real
// change is reported alone.
func TestFileWatchUnrelated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "sshd_config"), "a\n")
	write(t, filepath.Join(dir, "sshd_config.d/00-policy.conf"), "a\n")
	w := watchFiles(t, dir, []string{"sshd_config"}, []string{"sshd_config.d/*.conf"})

	for _, name := range []string{
		".sshd_config.swp",  // vim
		".sshd_config.swx",  // vim
		"sshd_config~",      // backups
		"sshd_config.bak",   // a copy
		"ssh_config",        // the client's
		"4913",              // vim's probe
		"sshd_config.d.txt", // a neighbour of the folder
		"sshd_config.d/.00-policy.conf.swp",
		"sshd_config.d/.hidden.conf", // glob(3) needs a literal '.'
		"sshd_config.d/README",
		"sshd_config.d/50-cloud-init.conf.dpkg-dist",
		"sshd_config.d/sub/10-a.conf", // Include does not recurse
	} {
		write(t, filepath.Join(dir, name), "x\n")
		must(t, os.Chmod(filepath.Join(dir, name), 0o666))
	}
	// Our own temporary files, renamed to a name that does not matter
	// and deleted.
	for _, base := range []string{"sshd_config", "sshd_config.d/00-policy.conf"} {
		tmp := filepath.Join(dir, filepath.Dir(base), "."+filepath.Base(base)+".sshwarden-0123456789abcdef")
		write(t, tmp, "x\n")
		must(t, os.Rename(tmp, tmp+".moved"))
		must(t, os.Remove(tmp+".moved"))
	}
	must(t, os.Mkdir(filepath.Join(dir, "unrelated.d"), 0o755))
	must(t, os.Remove(filepath.Join(dir, "unrelated.d")))
	expectQuiet(t, w, quietWait)

	write(t, filepath.Join(dir, "sshd_config.d/00-policy.conf"), "b\n")
	expectEvent(t, w, dir, "sshd_config.d/00-policy.conf")
}

// TestFileWatchBurst writes a file 100 times in a row and checks that the
// burst gives one event, with the default debounce.
func TestFileWatchBurst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "sshd_config")
	write(t, name, "")
	w := watchFiles(t, dir, []string{"sshd_config"}, nil)
	for i := range 100 {
		write(t, name, strings.Repeat("Port 22\n", i))
	}
	if diff := cmp.Diff([]string{name}, nextEvent(t, w)); diff != "" {
		t.Fatalf("event (-want +got):\n%s", diff)
	}
	expectQuiet(t, w, 2*DefaultDebounce+quietWait) // a second batch would be here
}

// TestFileWatchSteady writes a file without pause for longer than ten
// quiet periods, and checks that the changes are reported anyway, at
// least every ten quiet periods, not only once the writes stop.
func TestFileWatchSteady(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "sshd_config")
	const debounce = 50 * time.Millisecond
	w := watchFiles(t, dir, []string{"sshd_config"}, nil, WithDebounce(debounce))
	stop := time.Now().Add(4 * maxDelayFactor * debounce) // 2s
	n := 0
	for time.Now().Before(stop) {
		write(t, name, time.Now().String())
		time.Sleep(debounce / 5)
		select {
		case <-w.Events():
			n++
		default:
		}
	}
	if n < 2 {
		t.Errorf("%d events during 2s of writes every 10ms with a debounce of %v, want at least 2", n, debounce)
	}
}

// TestFileWatchOverflow feeds fsnotify.ErrEventOverflow to the watch, as
// fsnotify sends it when the kernel's queue overflowed, and checks that
// every path is reported (existing or not), with every file a glob
// matches, and the error.
func TestFileWatchOverflow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "sshd_config"), "a\n")
	write(t, filepath.Join(dir, "sshd_config.d/10-a.conf"), "a\n")
	write(t, filepath.Join(dir, "sshd_config.d/20-b.conf"), "a\n")
	write(t, filepath.Join(dir, "sshd_config.d/README"), "a\n")
	w := watchFiles(t, dir, []string{"sshd_config", "missing"}, []string{"sshd_config.d/*.conf"})
	// fsnotify's Errors is the channel the watch reads.
	w.fs.Errors <- fsnotify.ErrEventOverflow
	timeout := time.After(eventWait)
	var got []string
	var gotErr error
	for got == nil || gotErr == nil {
		select {
		case got = <-w.Events():
		case gotErr = <-w.Errors():
		case <-timeout:
			t.Fatalf("after an overflow: event %q, error %v within %v", got, gotErr, eventWait)
		}
	}
	want := join(dir, []string{"missing", "sshd_config", "sshd_config.d/10-a.conf", "sshd_config.d/20-b.conf"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event after an overflow (-want +got):\n%s", diff)
	}
	if !errors.Is(gotErr, fsnotify.ErrEventOverflow) {
		t.Errorf("error after an overflow = %v, want fsnotify.ErrEventOverflow", gotErr)
	}
	expectQuiet(t, w, quietWait)
}

// TestFileWatchSet replaces the watched set and checks that the old files
// no longer give events and the new ones do, in a folder not watched
// before and in one that does not exist yet.
func TestFileWatchSet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a/sshd_config"), "a\n")
	write(t, filepath.Join(dir, "b/policy.conf"), "a\n")
	w := watchFiles(t, dir, []string{"a/sshd_config"}, nil)
	write(t, filepath.Join(dir, "a/sshd_config"), "b\n")
	expectEvent(t, w, dir, "a/sshd_config")

	must(t, w.Set(join(dir, []string{"b/policy.conf"}), join(dir, []string{"c/conf.d/*.conf"})))
	expectQuiet(t, w, quietWait) // Set reports nothing by itself
	write(t, filepath.Join(dir, "a/sshd_config"), "c\n")
	expectQuiet(t, w, quietWait)
	write(t, filepath.Join(dir, "b/policy.conf"), "b\n")
	expectEvent(t, w, dir, "b/policy.conf")
	write(t, filepath.Join(dir, "c/conf.d/10-a.conf"), "b\n")
	expectEvent(t, w, dir, "c/conf.d/10-a.conf")

	must(t, w.Set(nil, nil))
	write(t, filepath.Join(dir, "b/policy.conf"), "c\n")
	write(t, filepath.Join(dir, "c/conf.d/10-a.conf"), "c\n")
	expectQuiet(t, w, quietWait)
	if got := w.fs.WatchList(); len(got) != 0 {
		t.Errorf("after Set(nil, nil), fsnotify watches %q, want nothing", got)
	}
}

// TestFileWatchClose checks that Close ends the channels, makes Set fail,
// can be called twice, and leaves no goroutine behind, even while a batch
// waits for a reader. It does not run in parallel: it counts goroutines.
func TestFileWatchClose(t *testing.T) {
	ours := func() int {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		n := 0
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "created by github.com/fsnotify/fsnotify.") ||
				strings.Contains(g, "created by github.com/sshwarden/sshwarden/watcher.WatchFiles") {
				n++
			}
		}
		return n
	}
	before := ours()
	dir := t.TempDir()
	w, err := WatchFiles([]string{filepath.Join(dir, "sshd_config")}, nil, WithDebounce(0))
	if err != nil {
		t.Fatal(err)
	}
	if n := ours(); n != before+2 {
		t.Errorf("a FileWatch runs %d goroutines, want 2 (its own and fsnotify's)", n-before)
	}
	write(t, filepath.Join(dir, "sshd_config"), "a\n")
	time.Sleep(100 * time.Millisecond) // the batch is ready, nobody reads it
	closed := make(chan error)
	go func() { closed <- w.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(eventWait):
		t.Fatalf("Close did not return within %v", eventWait)
	}
	for name, c := range map[string]func() bool{
		"Events": func() bool { _, ok := <-w.Events(); return ok },
		"Errors": func() bool { _, ok := <-w.Errors(); return ok },
	} {
		if c() {
			t.Errorf("%s not closed after Close", name)
		}
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Set(nil, nil); !errors.Is(err, fsnotify.ErrClosed) {
		t.Errorf("Set after Close = %v, want fsnotify.ErrClosed", err)
	}
	deadline := time.Now().Add(eventWait)
	for ours() != before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := ours(); n != before {
		t.Errorf("%d goroutines of FileWatch or fsnotify left after Close", n-before)
	}
}

// TestWatchFilesMissing checks that WatchFiles does not fail on folders
// that do not exist or that are files, and fails on an empty name.
func TestWatchFilesMissing(t *testing.T) {
	t.Parallel()
	if _, err := WatchFiles([]string{""}, nil); err == nil || err.Error() != "watching files: empty path" {
		t.Errorf(`WatchFiles([""]) = %v, want "watching files: empty path"`, err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "file"), "")
	w, err := WatchFiles(
		[]string{filepath.Join(dir, "no/such/folder/sshd_config"), filepath.Join(dir, "file/sshd_config")},
		[]string{filepath.Join(dir, "nor/this/*.conf")})
	if err != nil {
		t.Fatalf("WatchFiles of missing folders: %v", err)
	}
	if got, want := w.fs.WatchList(), []string{dir}; !cmp.Equal(got, want) {
		t.Errorf("WatchFiles of missing folders watches %q, want %q", got, want)
	}
	must(t, w.Close())
}

// TestComponentMatches checks the glob(3) matching of one name.
func TestComponentMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.conf", "50-cloud-init.conf", true},
		{"*.conf", "50-cloud-init.conf.bak", false},
		{"*.conf", ".hidden.conf", false},
		{".*.conf", ".hidden.conf", true},
		{`\.*.conf`, ".hidden.conf", true},
		{"*", ".sshd_config.swp", false},
		{"*", "sshd_config~", true},
		{"?0-*.conf", "50-x.conf", true},
		{"[!5]*.conf", "50-x.conf", false},
		{"[!5]*.conf", "00-x.conf", true},
		{"[^5]*.conf", "00-x.conf", true},
		{"[0-4]*.conf", "50-x.conf", false},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"[[:digit:]]*.conf", "00-x.conf", true},
		{"[[:digit:]]*.conf", "x.conf", false},
		{`50\-x.conf`, "50-x.conf", true},
		{"[", "[", true},
	}
	for _, tt := range tests {
		c := globTarget("/" + tt.pattern).base
		if got := c.matches(tt.name); got != tt.want {
			t.Errorf("component %q matches %q = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}
