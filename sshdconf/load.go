package sshdconf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// LoadOptions says how to read a configuration. The zero value reads like
// sshd on Debian: relative Includes against /etc/ssh, cwd "/", no user
// database (Match Group then matches nobody: pass one).
type LoadOptions struct {
	// Release is the OpenSSH build whose sshd reads the configuration;
	// nil means DefaultRelease (Debian 12's 9.2).
	Release *Release
	SSHDir  string // where relative Include paths point; default "/etc/ssh"
	Cwd     string // sshd's working directory, for relative file names; default "/"
	Users   Users  // for Match Group and ~ in file names
	// Services resolves a TCP service name for Port ("ssh" -> 22); the
	// default reads etc/services from the FS.
	Services func(name string) (int, bool)
	// Interfaces are the network interfaces that IPv6 zone ids name
	// (fe80::1%eth0), on the host sshd runs on. The default,
	// HostInterfaces, is the host this runs on (for --root too, as for
	// Users and Services: a tree has none); tests pass their own.
	Interfaces Interfaces

	// The budget of the load (see the package doc's Budget): Load stops
	// with a *BudgetError naming the line where one of them ran out. Each
	// later pass over the configuration (Effective, Directives) reads
	// what the first did, no more. Zero means the default.
	//
	// MaxFiles bounds the files read, counting each inclusion of a file
	// again (default DefaultMaxFiles). MaxBytes bounds the bytes read,
	// counting each inclusion again (default DefaultMaxBytes). MaxLines
	// bounds the lines read, directives, comments and blank lines alike,
	// counting each inclusion again (default DefaultMaxLines).
	// MaxMatchCriteria bounds the criteria of one Match line (default
	// DefaultMaxMatchCriteria). MaxFileSize bounds each file (default
	// MaxBytes): a larger one is not read.
	MaxFiles         int
	MaxBytes         int64
	MaxLines         int
	MaxMatchCriteria int
	MaxFileSize      int64
}

// setDefaults fills the zero fields of o with their defaults.
func (o *LoadOptions) setDefaults() {
	if o.Release == nil {
		o.Release = DefaultRelease()
	}
	if o.SSHDir == "" {
		o.SSHDir = "/etc/ssh"
	}
	if o.Cwd == "" {
		o.Cwd = "/"
	}
	if o.Interfaces == nil {
		o.Interfaces = HostInterfaces{}
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxLines <= 0 {
		o.MaxLines = DefaultMaxLines
	}
	if o.MaxMatchCriteria <= 0 {
		o.MaxMatchCriteria = DefaultMaxMatchCriteria
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = o.MaxBytes
	}
}

// Config is a loaded sshd configuration: the main file, every file it
// includes, and sshd's first pass over them (global values and defaults).
// A Config caches what it computes on first use, so one Config must not be
// used by several goroutines at once; load one per goroutine.
type Config struct {
	// Main is the name of the main file, as given to Load.
	Main string
	// Files are the files read, in the order first read, by the name sshd
	// would open them with.
	Files []*File

	fsys   fs.FS
	opt    LoadOptions
	rel    *Release
	alg    *algorithms // rel.alg
	byName map[string]*source
	globs  map[string]globbed
	global *options
	diags  []Diag
	fatal  *Diag
	// over is where the first pass ran out of budget after sshd would
	// have stopped (at fatal): the configuration is refused either way.
	over *BudgetError
	// extra counts the bytes ReadFile has read, against MaxBytes.
	extra int64
	// work is what the first pass read.
	work meter

	// Computed once, on first use: the reading-order walk and the first
	// pass's settings.
	walked   bool
	dirsList []*Directive
	incList  []Include
	globalFx *Effective
	dirs     map[string][]fs.DirEntry // ReadDir results, shared by glob and checks
}

// source is one file as sshd reads it.
type source struct {
	file  *File
	lines [][]byte // sshd's lines (see sshdLines)
	err   *Diag    // unreadable
	size  int64    // its bytes; -1 when it is too large to be read
}

// globbed is the result of an Include pattern.
type globbed struct {
	files []string
	over  bool // the pattern names more paths than the budget allows
}

// A Diag is a problem sshd reports while reading the configuration.
type Diag struct {
	// Pos is where sshd reports the problem: the keyword or argument at
	// fault, or the file for a whole-file problem.
	Pos Pos
	// Kind classifies the problem, for lint check names.
	Kind DiagKind
	// Msg describes the problem without its location, for lint output.
	Msg string
	// SSHD is the message sshd prints for it, word for word.
	SSHD string
	// Fatal diagnostics make sshd stop at once; errors make it stop at the
	// end of the file ("terminating, N bad configuration options"); others
	// (deprecated and unsupported keywords) are logged only.
	Severity Severity
}

// DiagKind classifies diagnostics, for lint check names.
type DiagKind string

// Diagnostic kinds.
const (
	KindBadOption   DiagKind = "unknown-keyword"
	KindSyntax      DiagKind = "syntax"
	KindBadValue    DiagKind = "bad-value"
	KindNotInMatch  DiagKind = "not-allowed-in-match"
	KindBadMatch    DiagKind = "bad-match"
	KindInclude     DiagKind = "include"
	KindIO          DiagKind = "unreadable"
	KindDeprecated  DiagKind = "deprecated"
	KindTerminating DiagKind = "terminating"
	// KindDetail is a message sshd prints just before a fatal one, to
	// explain it ("Missing Match criteria for bob", then "Bad Match
	// condition"); the fatal diagnostic carries its text too.
	KindDetail DiagKind = "detail"
)

// Severity of a Diag.
type Severity int

// Severities.
const (
	SevInfo  Severity = iota // logged, the config is accepted
	SevError                 // counted; sshd stops at the end of the file
	SevFatal                 // sshd stops here
)

// Error formats d as FILE:LINE:COL: MSG.
func (d Diag) Error() string {
	return fmt.Sprintf("%s: %s", d.Pos, d.Msg)
}

// ErrorList is a list of diagnostics that is an error: all the problems
// met, not only the first.
type ErrorList []Diag

// Error formats the diagnostics of l one a line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, d := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

// Load reads the configuration whose main file is name (an absolute path as
// sshd would open it) from fsys, which is rooted at "/", and runs sshd's
// first pass. It fails when the main file cannot be read, and with a
// *BudgetError when the configuration needs more work than opt's budget
// allows before sshd would refuse it; problems sshd would report are in
// Diags and Err.
//
// fsys is [DirFS]("/") for the host, a [RootFS] for a tree read as if it
// were "/" (--root), or an in-memory file system.
func Load(fsys fs.FS, name string, opt *LoadOptions) (*Config, error) {
	c, err := load(fsys, name, opt)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// load is Load, returning the Config even when it fails (for tests of the
// budget).
func load(fsys fs.FS, name string, opt *LoadOptions) (*Config, error) {
	c := &Config{Main: name, fsys: fsys, byName: map[string]*source{}, globs: map[string]globbed{}, dirs: map[string][]fs.DirEntry{}}
	if opt != nil {
		c.opt = *opt
	}
	c.opt.setDefaults()
	c.rel, c.alg = c.opt.Release, c.opt.Release.alg
	if c.opt.Services == nil {
		c.opt.Services = ServicesFile(fsys)
	}
	src := c.read(name)
	if src.err != nil {
		return c, errors.New(src.err.SSHD)
	}
	return c, c.firstPass()
}

// Parsed builds a Config from files already parsed (by [Parse], and
// perhaps edited) as [Load] would read them were they the only files on
// the host: main names the main file, and Include lines find the others by
// their [File.Name]. Nothing touches a file system; the Config reads the
// files' text, and its Files are its own.
func Parsed(files []*File, main string, opt *LoadOptions) (*Config, error) {
	m := make(map[string][]byte, len(files))
	for _, f := range files {
		m[f.Name] = f.Bytes()
	}
	return Load(memfs.New(m), main, opt)
}

// Diags returns the problems of the first pass, in the order sshd meets
// them (sshd itself stops at the first fatal one; see Err): the first
// thousand, and the fatal one when it comes later.
func (c *Config) Diags() []Diag { return c.diags }

// Err returns the diagnostic sshd would stop with, or nil when sshd accepts
// the configuration.
func (c *Config) Err() error {
	if c.fatal == nil {
		return nil
	}
	return *c.fatal
}

// SSHDMessages returns what sshd prints on stderr before it gives up: the
// errors met up to the fatal one, and the fatal one. Empty when it accepts
// the configuration.
func (c *Config) SSHDMessages() []string {
	if c.fatal == nil {
		return nil
	}
	var out []string
	for _, d := range c.diags {
		if d.Severity == SevInfo {
			continue
		}
		if d.SSHD != "" {
			out = append(out, d.SSHD)
		}
		if d == *c.fatal {
			break
		}
	}
	return out
}

// FS returns the file system c was loaded from: the *RootFS given to Load
// under --root, whose OpenFile writes into the same tree with the same
// resolution (a Config from With reads through an overlay on it).
func (c *Config) FS() fs.FS { return c.fsys }

// File returns the parsed file named name, or nil when it was not read.
func (c *Config) File(name string) *File {
	if s := c.byName[name]; s != nil {
		return s.file
	}
	return nil
}

// Path returns the absolute path sshd opens for a file name of c (names
// relative to sshd's working directory are resolved against it).
func (c *Config) Path(name string) string { return c.abs(name) }

// abs resolves a file name sshd would open relative to its cwd.

func (c *Config) abs(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return strings.TrimSuffix(c.opt.Cwd, "/") + "/" + name
}

func fsName(name string) string {
	n := strings.TrimPrefix(path.Clean("/"+name), "/")
	if n == "" {
		return "."
	}
	return n
}

// read loads one file the way load_server_config does, once.
func (c *Config) read(name string) *source {
	if s, ok := c.byName[name]; ok {
		return s
	}
	s := &source{}
	c.byName[name] = s
	fail := func(err error) {
		msg := errText(err)
		s.err = &Diag{Pos: Pos{File: name}, Kind: KindIO, Severity: SevFatal, Msg: "cannot read: " + msg, SSHD: name + ": " + msg}
		s.file = &File{Name: name}
		s.lines = [][]byte{nil}
	}
	tooLarge := func() {
		s.size = -1
		s.file = &File{Name: name}
		s.lines = [][]byte{nil}
	}
	f, err := c.fsys.Open(fsName(c.abs(name)))
	if err != nil {
		fail(err)
		return s
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		fail(err)
		return s
	case st.IsDir():
		// fopen succeeds on a directory and getline fails: it reads as empty.
		s.file = &File{Name: name, Info: st}
		s.lines = [][]byte{nil}
		c.Files = append(c.Files, s.file)
		return s
	case st.Size() > c.opt.fileLimit():
		tooLarge()
		return s
	}
	b := make([]byte, 0, st.Size()+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(err)
			return s
		}
		if int64(len(b)) > c.opt.fileLimit() {
			// A file that grows, or one whose size fstat does not
			// know (a device, a /proc file).
			tooLarge()
			return s
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
	s.size = int64(len(b))
	s.file = Parse(name, b)
	s.file.Info = st
	s.lines = sshdLines(b)
	c.Files = append(c.Files, s.file)
	return s
}

// errText renders an I/O error the way perror does.
func errText(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return capitalize(errno.Error())
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	}
	return err.Error()
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// glob expands an Include pattern like glob(3) with flags 0 in the C
// locale: '*', '?', '[...]' and '\' in each path component, names starting
// with '.' matched only by a literal '.', results sorted bytewise, and no
// result (not an error) when nothing matches. ok is false when the pattern
// names more paths (matches, or folders to look in) than MaxFiles.
func (c *Config) glob(pattern string) (files []string, ok bool) {
	if r, ok := c.globs[pattern]; ok {
		return r.files, !r.over
	}
	abs := pattern
	if !strings.HasPrefix(abs, "/") {
		abs = strings.TrimSuffix(c.opt.Cwd, "/") + "/" + abs
	}
	parts := strings.Split(abs, "/")
	cands := []string{""}
	listed := map[string]bool{} // found by ReadDir: known to exist
	for i, part := range parts {
		if i == 0 {
			continue // the empty string before the leading '/'
		}
		last := i == len(parts)-1
		var next []string
		for _, dir := range cands {
			if part == "" {
				next = append(next, dir+"/")
				continue
			}
			if !hasMagic(part) {
				next = append(next, dir+"/"+unescape(part))
				continue
			}
			ents, err := c.ReadDir(dir + "/")
			if err != nil {
				continue
			}
			for _, e := range ents {
				if !fnmatch(part, e.Name()) {
					continue
				}
				p := dir + "/" + e.Name()
				listed[p] = true
				if !last {
					if st, err := fs.Stat(c.fsys, fsName(p)); err != nil || !st.IsDir() {
						continue
					}
				}
				next = append(next, p)
			}
		}
		cands = next
		if len(cands) > c.opt.MaxFiles {
			c.globs[pattern] = globbed{over: true}
			return nil, false
		}
	}
	var out []string
	for _, p := range cands {
		if listed[p] {
			out = append(out, p)
			continue
		}
		if _, err := fs.Stat(c.fsys, fsName(p)); err == nil {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if !strings.HasPrefix(pattern, "/") {
		// glob returns names as the pattern spelled them.
		prefix := strings.TrimSuffix(c.opt.Cwd, "/") + "/"
		for i := range out {
			out[i] = strings.TrimPrefix(out[i], prefix)
		}
	}
	c.globs[pattern] = globbed{files: out}
	return out, true
}

// ServicesFile returns a lookup of TCP service names in etc/services of
// fsys (rooted at "/"), as getservbyname(name, "tcp") does with the "files"
// NSS source. The file is read once, on first use.
func ServicesFile(fsys fs.FS) func(string) (int, bool) {
	var (
		once  sync.Once
		ports = map[string]int{}
	)
	return func(name string) (int, bool) {
		once.Do(func() {
			b, _ := fs.ReadFile(fsys, "etc/services")
			for _, line := range strings.Split(string(b), "\n") {
				if i := strings.IndexByte(line, '#'); i >= 0 {
					line = line[:i]
				}
				f := strings.Fields(line)
				if len(f) < 2 {
					continue
				}
				port, proto, ok := strings.Cut(f[1], "/")
				n, err := strconv.Atoi(port)
				if !ok || proto != "tcp" || err != nil {
					continue
				}
				for _, alias := range append([]string{f[0]}, f[2:]...) {
					if _, dup := ports[alias]; !dup {
						ports[alias] = n
					}
				}
			}
		})
		p, ok := ports[name]
		return p, ok
	}
}

// With loads the configuration again, from the same file system and with
// the same options, except that the files named in replace (by sshd name)
// read as the given bytes. It is how a change is checked before it is
// written: the result is what sshd will read once the files are replaced.
func (c *Config) With(replace map[string][]byte) (*Config, error) {
	over := overlayFS{base: c.fsys, files: make(map[string][]byte, len(replace))}
	for n, b := range replace {
		over.files[fsName(c.abs(n))] = b
	}
	opt := c.opt
	return Load(over, c.Main, &opt)
}

// overlayFS reads some files from memory and the rest from base.
type overlayFS struct {
	base  fs.FS
	files map[string][]byte
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if b, ok := o.files[name]; ok {
		return memfs.File(name, b), nil
	}
	return o.base.Open(name)
}

func (o overlayFS) Stat(name string) (fs.FileInfo, error) {
	if b, ok := o.files[name]; ok {
		return memfs.Info(name, int64(len(b))), nil
	}
	return fs.Stat(o.base, name)
}

func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(o.base, name) }
