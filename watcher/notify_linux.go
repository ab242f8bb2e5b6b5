package watcher

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// DefaultDebounce is how long a [FileWatch] waits, after a change, for the
// files to stay quiet before it reports them.
const DefaultDebounce = 200 * time.Millisecond

// Bounds of a [FileWatch]'s work.
const (
	// maxDelayFactor times the debounce is the longest a change waits to
	// be reported while changes keep coming.
	maxDelayFactor = 10
	// maxQueuedErrors is how many errors a FileWatch keeps for a reader of
	// Errors; it drops the newer ones.
	maxQueuedErrors = 32
	// maxSyncRounds bounds the rounds of one sync of the watched folders
	// with the file system (folders created or deleted while it runs).
	maxSyncRounds = 16
)

// A WatchOption configures [WatchFiles].
type WatchOption func(*FileWatch)

// WithDebounce sets the quiet period: a change is reported once the
// watched files have not changed for d ([DefaultDebounce] by default), or
// at the latest 10*d after the first change of a batch. A d of 0 reports
// each change as soon as it is read.
func WithDebounce(d time.Duration) WatchOption {
	return func(w *FileWatch) { w.debounce = max(d, 0) }
}

// FileWatch reports changes to a set of files (and to the files a glob
// would match, for Include patterns), as sshd would see them: it watches
// folders, not files, with inotify(7) through fsnotify, so a file replaced
// by a rename (editors, `sshwarden fix -w`) or dropped into a folder
// (cloud-init's sshd_config.d/50-cloud-init.conf) is seen.
//
// # What it reports
//
// [FileWatch.Events] sends, after a change and a quiet period
// ([WithDebounce]), the sorted names of the files that changed: content
// written, the file created, deleted, renamed away or replaced by a
// rename, its mode, owner or times changed (a file becoming world-writable
// is drift), or the folder holding it deleted, renamed or replaced. A
// name is one of the watched paths, or a name that one of the globs
// matches, cleaned and made absolute. A change to any other file in the
// same folders is ignored: an editor's swap file (.sshd_config.swp), the
// temporary files of `sshwarden fix` (.BASE.sshwarden-HEX), a file that a
// glob does not match.
//
// Globs are matched like sshd's Include ([sshdconf.GlobMatch], glob(3)):
// '*', '?', '[...]' and '\' in any component of the path, and a name
// starting with '.' is matched only by a pattern starting with '.'.
//
// # Folders
//
// For each path (and each glob) it watches the folder that holds it. A
// folder that does not exist yet is not an error: it watches the nearest
// existing ancestor and moves down when the folder is created, as when
// /etc/ssh/sshd_config.d appears after WatchFiles. When a watched folder
// is deleted, renamed or replaced, it moves up or to the new folder, and
// reports the files it knew in the old one and the files it finds in the
// new one. A glob with magic characters in a folder component
// (/etc/ssh/*/x.conf) watches the folder above it too, to see new
// matching folders.
//
// When the kernel's event queue overflows (fsnotify.ErrEventOverflow,
// after fs.inotify.max_queued_events events not yet read), events are
// lost: it then reports every watched path and every file the globs
// match, or matched before, as changed, and sends the error on
// [FileWatch.Errors] too.
//
// A symbolic link is watched as a name: replacing the link is a change,
// a change of the file it points to in another folder is not seen. A
// change made while a path is not in the set is not reported (see
// [FileWatch.Set]).
//
// # Goroutines
//
// A FileWatch owns one goroutine (and fsnotify's reader); [FileWatch.Close]
// ends both and closes the channels. The channels need not be read: while
// nobody reads Events, later changes are merged into the next batch; while
// nobody reads Errors, 32 errors are kept and later ones dropped.
type FileWatch struct {
	fs       *fsnotify.Watcher
	debounce time.Duration
	events   chan []string
	errs     chan error
	sets     chan setRequest
	done     chan struct{} // closed by Close
	exited   chan struct{} // closed when run returned
	closing  sync.Once
	closeErr error

	// Owned by the goroutine of run once WatchFiles returned.
	paths   map[string]bool   // the watched paths
	targets []target          // one per path and per glob
	watched map[string]fileID // folders watched, with the identity they had
	known   map[string]bool   // files that matter and were last seen present
	pending map[string]bool   // changed, waiting for the quiet period
	first   time.Time         // the first change of pending
	timer   *time.Timer       // fires at the end of the quiet period
	queued  []error           // errors not yet read from Errors
}

type setRequest struct {
	paths, globs []string
	reply        chan error
}

// WatchFiles starts watching paths and the files that globs match. It
// fails when fsnotify cannot start (fs.inotify.max_user_instances) or a
// folder that exists cannot be watched (permissions,
// fs.inotify.max_user_watches), never because a folder does not exist.
func WatchFiles(paths, globs []string, opts ...WatchOption) (*FileWatch, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching files: %w", err)
	}
	w := &FileWatch{
		fs:       fsw,
		debounce: DefaultDebounce,
		events:   make(chan []string),
		errs:     make(chan error),
		sets:     make(chan setRequest),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
		watched:  map[string]fileID{},
		known:    map[string]bool{},
		pending:  map[string]bool{},
		timer:    time.NewTimer(time.Hour),
	}
	w.timer.Stop()
	for _, o := range opts {
		o(w)
	}
	if err := w.set(paths, globs); err != nil {
		fsw.Close()
		return nil, err
	}
	go w.run()
	return w, nil
}

// Events returns the channel of changes: each value is a sorted list of
// the names that changed (see [FileWatch]). It is closed by Close.
func (w *FileWatch) Events() <-chan []string { return w.events }

// Errors returns the channel of errors that did not stop the watch: a
// folder that could not be watched, an event queue overflow (then every
// file is reported as changed on Events). It is closed by Close.
func (w *FileWatch) Errors() <-chan error { return w.errs }

// Set replaces the watched paths and globs, as after a reload of the
// configuration when its Include lines changed. It reports nothing by
// itself: a file new to the set that changed before Set returned is not
// reported, so a caller that must not miss one reads its files again
// after Set. Changes already waiting for their quiet period are still
// reported. Set fails like [WatchFiles], or when the FileWatch is closed.
// After an empty name nothing changed; after a folder that could not be
// watched, the new set is in force for the others.
func (w *FileWatch) Set(paths, globs []string) error {
	req := setRequest{paths: paths, globs: globs, reply: make(chan error, 1)}
	select {
	case w.sets <- req:
		return <-req.reply
	case <-w.exited:
		return fmt.Errorf("watching files: %w", fsnotify.ErrClosed)
	}
}

// Close stops the watch, waits for its goroutines and closes the channels
// of Events and Errors. Changes not yet sent are dropped. Calling Close
// more than once is harmless.
func (w *FileWatch) Close() error {
	w.closing.Do(func() {
		close(w.done)
		<-w.exited
		if err := w.fs.Close(); err != nil {
			w.closeErr = fmt.Errorf("watching files: %w", err)
		}
	})
	return w.closeErr
}

// run is the goroutine of a FileWatch: it alone touches the fields below
// "Owned by".
func (w *FileWatch) run() {
	defer close(w.exited)
	defer close(w.errs)
	defer close(w.events)
	defer w.timer.Stop()
	var batch []string // ready to send
	for {
		var events chan<- []string
		if batch != nil {
			events = w.events
		}
		var errs chan<- error
		var next error
		if len(w.queued) > 0 {
			errs, next = w.errs, w.queued[0]
		}
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			w.handle(ev)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.fail(err)
		case req := <-w.sets:
			req.reply <- w.set(req.paths, req.globs)
		case <-w.timer.C:
			for name := range w.pending {
				batch = append(batch, name)
			}
			slices.Sort(batch)
			batch = slices.Compact(batch)
			clear(w.pending)
		case events <- batch:
			batch = nil
		case errs <- next:
			w.queued = w.queued[1:]
		}
	}
}

// handle takes one event of fsnotify.
func (w *FileWatch) handle(ev fsnotify.Event) {
	name := filepath.Clean(ev.Name)
	if w.matters(name) {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			delete(w.known, name)
		} else {
			w.known[name] = true
		}
		w.changed(name)
	}
	// A folder on the way to a watched file was created, deleted or
	// renamed, or a watched folder itself: watch the right ones again.
	if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if _, ok := w.watched[name]; ok || w.onTheWay(name) {
			for _, err := range w.sync(true) {
				w.queue(err)
			}
		}
	}
}

// fail takes one error of fsnotify.
func (w *FileWatch) fail(err error) {
	if !errors.Is(err, fsnotify.ErrEventOverflow) {
		w.queue(fmt.Errorf("watching files: %w", err))
		return
	}
	w.queue(fmt.Errorf("watching files: %w: reporting every file as changed", err))
	for _, err := range w.sync(true) {
		w.queue(err)
	}
	for p := range w.paths {
		w.changed(p)
	}
	for f := range w.known {
		w.changed(f)
	}
	clear(w.known)
	for d := range w.watched {
		for _, f := range w.present(d) {
			w.known[f] = true
			w.changed(f)
		}
	}
}

func (w *FileWatch) queue(err error) {
	if len(w.queued) < maxQueuedErrors {
		w.queued = append(w.queued, err)
	}
}

// changed adds name to the pending batch and sets the end of its quiet
// period.
func (w *FileWatch) changed(name string) {
	now := time.Now()
	if len(w.pending) == 0 {
		w.first = now
	}
	w.pending[name] = true
	wait := min(w.debounce, w.first.Add(maxDelayFactor*w.debounce).Sub(now))
	w.timer.Reset(max(wait, 0))
}

// set replaces the targets and syncs the watched folders, quietly.
func (w *FileWatch) set(paths, globs []string) error {
	set := map[string]bool{}
	var targets []target
	for _, p := range paths {
		abs, err := absolute(p)
		if err != nil {
			return err
		}
		set[abs] = true
		targets = append(targets, literalTarget(abs))
	}
	for _, g := range globs {
		abs, err := absolute(g)
		if err != nil {
			return err
		}
		targets = append(targets, globTarget(abs))
	}
	w.paths, w.targets = set, targets
	errs := w.sync(false)
	clear(w.known)
	for d := range w.watched {
		for _, f := range w.present(d) {
			w.known[f] = true
		}
	}
	return errors.Join(errs...)
}

func absolute(p string) (string, error) {
	if p == "" {
		return "", errors.New("watching files: empty path")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("watching %s: %w", p, err)
	}
	if abs == "/" {
		return "", errors.New("watching files: / is not a file")
	}
	return abs, nil
}

// sync makes the watched folders the wanted ones, with the identities they
// have now. A folder that went away or was replaced has its known files
// reported; with announce, a folder newly watched has the files in it
// that matter reported, since they may have changed while it was not.
// It goes on until a round changes nothing, so that a folder created
// while it ran is watched too.
func (w *FileWatch) sync(announce bool) []error {
	var errs []error
	failed := map[string]bool{}
	for range maxSyncRounds {
		want := w.wanted()
		settled := true
		for d, id := range w.watched {
			if nid, ok := want[d]; ok && nid == id {
				continue
			}
			// fsnotify drops the watch of a folder deleted or renamed by
			// itself; Remove then fails, harmlessly.
			_ = w.fs.Remove(d)
			delete(w.watched, d)
			w.forget(d)
		}
		for d, id := range want {
			if _, ok := w.watched[d]; ok || failed[d] {
				continue
			}
			settled = false
			if err := w.fs.Add(d); err != nil {
				if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
					continue // gone since wanted: the next round finds out
				}
				failed[d] = true
				errs = append(errs, fmt.Errorf("watching %s: %w", d, err))
				continue
			}
			w.watched[d] = id
			for _, f := range w.present(d) {
				w.known[f] = true
				if announce {
					w.changed(f)
				}
			}
		}
		if settled {
			break
		}
	}
	return errs
}

// forget reports the known files of folder d, which is no longer watched,
// as changed (when they still matter) and forgets them.
func (w *FileWatch) forget(d string) {
	for f := range w.known {
		if filepath.Dir(f) != d {
			continue
		}
		delete(w.known, f)
		if w.matters(f) {
			w.changed(f)
		}
	}
}

// wanted returns the folders to watch, with their identities: for each
// target, the folder that holds it, or its nearest existing ancestor, and
// for a folder component with magic characters, the folders above it.
func (w *FileWatch) wanted() map[string]fileID {
	want := map[string]fileID{}
	watch := func(d string) {
		for {
			if id, ok := dirID(d); ok {
				want[d] = id
				return
			}
			if d == "/" {
				return
			}
			d = filepath.Dir(d)
		}
	}
	for _, t := range w.targets {
		cur := []string{"/"}
		for _, c := range t.dir {
			var next []string
			for _, d := range cur {
				if !c.magic {
					p := filepath.Join(d, c.s)
					if _, ok := dirID(p); ok {
						next = append(next, p)
					} else {
						watch(d)
					}
					continue
				}
				watch(d)
				ents, _ := os.ReadDir(d) // unreadable: nothing matches, as in glob(3)
				for _, e := range ents {
					p := filepath.Join(d, e.Name())
					if _, ok := dirID(p); ok && c.matches(e.Name()) {
						next = append(next, p)
					}
				}
			}
			cur = next
		}
		for _, d := range cur {
			watch(d)
		}
	}
	return want
}

// present returns the files of folder d that matter and exist.
func (w *FileWatch) present(d string) []string {
	var out []string
	for p := range w.paths {
		if filepath.Dir(p) == d {
			if _, err := os.Lstat(p); err == nil {
				out = append(out, p)
			}
		}
	}
	var ents []os.DirEntry
	listed := false
	for _, t := range w.targets {
		if !t.glob || !t.holds(d) {
			continue
		}
		if !listed {
			ents, _ = os.ReadDir(d)
			listed = true
		}
		for _, e := range ents {
			if t.base.matches(e.Name()) {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out
}

// matters reports whether a change of name is to be reported.
func (w *FileWatch) matters(name string) bool {
	if w.paths[name] {
		return true
	}
	for _, t := range w.targets {
		if t.glob && t.match(name) {
			return true
		}
	}
	return false
}

// onTheWay reports whether name could be a folder on the way to a target:
// it matches the first components of a target's folder.
func (w *FileWatch) onTheWay(name string) bool {
	comps := components(name)
	for _, t := range w.targets {
		if len(comps) > len(t.dir) {
			continue
		}
		ok := true
		for i, c := range comps {
			if !t.dir[i].matches(c) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// fileID is the identity of a folder: a folder replaced by another under
// the same name needs a new watch.
type fileID struct{ dev, ino uint64 }

func dirID(p string) (fileID, bool) {
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return fileID{}, false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, true
	}
	return fileID{dev: uint64(sys.Dev), ino: sys.Ino}, true
}

// A target is a watched path or glob, split into components below "/".
type target struct {
	dir  []component
	base component
	glob bool
}

// A component is a name, or a pattern when magic.
type component struct {
	s     string
	magic bool
}

func literalTarget(p string) target {
	comps := components(p)
	t := target{base: component{s: comps[len(comps)-1]}}
	for _, c := range comps[:len(comps)-1] {
		t.dir = append(t.dir, component{s: c})
	}
	return t
}

func globTarget(p string) target {
	comps := components(p)
	t := target{glob: true}
	for i, c := range comps {
		comp := component{s: c, magic: true}
		if !strings.ContainsAny(c, `*?[\`) {
			comp.magic = false // a plain name: compared, not matched
		}
		if i == len(comps)-1 {
			t.base = comp
		} else {
			t.dir = append(t.dir, comp)
		}
	}
	return t
}

// components splits a clean absolute path into its names ("/" has none).
func components(p string) []string {
	if p == "/" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(p, "/"), "/")
}

// match reports whether the clean absolute name is one the target names.
func (t target) match(name string) bool {
	comps := components(name)
	if len(comps) != len(t.dir)+1 || !t.base.matches(comps[len(comps)-1]) {
		return false
	}
	for i, c := range t.dir {
		if !c.matches(comps[i]) {
			return false
		}
	}
	return true
}

// holds reports whether folder d is the target's folder.
func (t target) holds(d string) bool {
	comps := components(d)
	if len(comps) != len(t.dir) {
		return false
	}
	for i, c := range t.dir {
		if !c.matches(comps[i]) {
			return false
		}
	}
	return true
}

// matches matches one name as glob(3) does for each component.
func (c component) matches(name string) bool {
	if !c.magic {
		return c.s == name
	}
	return sshdconf.GlobMatch(c.s, name)
}
