package sshdconf

import (
	"bytes"
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
)

// LoadOptions says how to read a configuration. The zero value reads like
// sshd on Debian: relative Includes against /etc/ssh, cwd "/", no user
// database (Match Group then matches nobody: pass one).
type LoadOptions struct {
	SSHDir string // where relative Include paths point; default "/etc/ssh"
	Cwd    string // sshd's working directory, for relative file names; default "/"
	Users  Users  // for Match Group and ~ in file names
	// Services resolves a TCP service name for Port ("ssh" -> 22); the
	// default reads etc/services from the FS.
	Services func(name string) (int, bool)
	// MaxFileSize bounds each file read (default 16 MiB): larger files are
	// refused with an error naming them, where sshd would read them.
	MaxFileSize int64
	// MaxLines bounds the lines one evaluation may process, counting each
	// inclusion of a file again (default 1,000,000), so that include fan-out
	// cannot make it run for ever.
	MaxLines int
}

// Config is a loaded sshd configuration: the main file, every file it
// includes, and sshd's first pass over them (global values and defaults).
// A Config caches what it computes on first use, so one Config must not be
// used by several goroutines at once; load one per goroutine.
type Config struct {
	Main string
	// Files are the files read, in the order first read, by the name sshd
	// would open them with.
	Files []*File

	fsys   fs.FS
	opt    LoadOptions
	alg    *algorithms
	byName map[string]*source
	globs  map[string][]string
	global *options
	diags  []Diag
	fatal  *Diag

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
}

// A Diag is a problem sshd reports while reading the configuration.
type Diag struct {
	Pos  Pos
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
	KindLimit       DiagKind = "too-large"
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

func (d Diag) Error() string {
	return fmt.Sprintf("%s: %s", d.Pos, d.Msg)
}

// ErrorList is a list of diagnostics that is an error.
type ErrorList []Diag

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
// first pass. It fails only when the main file cannot be read; problems sshd
// would report are in Diags and Err.
func Load(fsys fs.FS, name string, opt *LoadOptions) (*Config, error) {
	c := &Config{Main: name, fsys: fsys, alg: alg92, byName: map[string]*source{}, globs: map[string][]string{}, dirs: map[string][]fs.DirEntry{}}
	if opt != nil {
		c.opt = *opt
	}
	if c.opt.SSHDir == "" {
		c.opt.SSHDir = "/etc/ssh"
	}
	if c.opt.Cwd == "" {
		c.opt.Cwd = "/"
	}
	if c.opt.MaxFileSize == 0 {
		c.opt.MaxFileSize = 16 << 20
	}
	if c.opt.MaxLines == 0 {
		c.opt.MaxLines = 1_000_000
	}
	if c.opt.Services == nil {
		c.opt.Services = ServicesFile(fsys)
	}
	src := c.read(name)
	if src.err != nil {
		return nil, errors.New(src.err.SSHD)
	}
	c.firstPass()
	return c, nil
}

// Parsed builds a Config from files already parsed, keyed by sshd name, with
// main naming the main file. Includes are looked up among them. It is Load
// for tests and fuzzing: nothing touches the file system.
func Parsed(files map[string][]byte, main string, opt *LoadOptions) (*Config, error) {
	m := mapFS{}
	for n, b := range files {
		m[strings.TrimPrefix(path.Clean("/"+n), "/")] = b
	}
	return Load(m, main, opt)
}

// Diags returns every problem of the first pass, in the order sshd meets
// them (sshd itself stops at the first fatal one; see Err).
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

// File returns the parsed file named name, or nil when it was not read.
func (c *Config) File(name string) *File {
	if s := c.byName[name]; s != nil {
		return s.file
	}
	return nil
}

// abs resolves a file name sshd would open relative to its cwd.
// Path returns the absolute path sshd opens for a file name of c (names
// relative to sshd's working directory are resolved against it).
func (c *Config) Path(name string) string { return c.abs(name) }

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
	case st.Size() > c.opt.MaxFileSize:
		s.err = &Diag{Pos: Pos{File: name}, Kind: KindLimit, Severity: SevFatal,
			Msg:  fmt.Sprintf("file is %d bytes, more than the %d this tool reads", st.Size(), c.opt.MaxFileSize),
			SSHD: name + ": file too large"}
		s.file = &File{Name: name}
		s.lines = [][]byte{nil}
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
		if int64(len(b)) > c.opt.MaxFileSize {
			fail(errors.New("file too large"))
			return s
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
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
// result (not an error) when nothing matches.
func (c *Config) glob(pattern string) []string {
	if r, ok := c.globs[pattern]; ok {
		return r
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
		if len(cands) > 100000 {
			break
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
	c.globs[pattern] = out
	return out
}

func hasMagic(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fnmatch ports fnmatch(pattern, name, FNM_PERIOD) for one path component.
func fnmatch(pattern, name string) bool {
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(pattern, ".") && !strings.HasPrefix(pattern, `\.`) {
		return false
	}
	return fnmatchAt(pattern, name)
}

func fnmatchAt(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if fnmatchAt(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		case '[':
			if s == "" {
				return false
			}
			ok, n := bracket(p, s[0])
			if n == 0 { // no closing ']': a literal '['
				if s[0] != '[' {
					return false
				}
				p, s = p[1:], s[1:]
				continue
			}
			if !ok {
				return false
			}
			p, s = p[n:], s[1:]
		case '\\':
			if len(p) > 1 {
				p = p[1:]
			}
			fallthrough
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}

// bracket matches c against the bracket expression at the start of p and
// returns the result and the expression's length (0 when unterminated).
func bracket(p string, c byte) (bool, int) {
	i := 1
	neg := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		neg = true
		i++
	}
	matched := false
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return matched != neg, i + 1
		}
		first = false
		if p[i] == '[' && i+1 < len(p) && p[i+1] == ':' {
			if end := strings.Index(p[i+2:], ":]"); end >= 0 {
				if classMatch(p[i+2:i+2+end], c) {
					matched = true
				}
				i += end + 4
				continue
			}
		}
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		i++
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi = p[i+1]
			if hi == '\\' && i+2 < len(p) {
				hi = p[i+2]
				i++
			}
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return false, 0
}

func classMatch(class string, c byte) bool {
	switch class {
	case "alpha":
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	case "digit":
		return c >= '0' && c <= '9'
	case "alnum":
		return isAlnum(c)
	case "upper":
		return c >= 'A' && c <= 'Z'
	case "lower":
		return c >= 'a' && c <= 'z'
	case "space":
		return isSpace(c)
	case "xdigit":
		return isHex(c)
	case "punct":
		return c > ' ' && c < 0x7f && !isAlnum(c)
	case "print":
		return c >= ' ' && c < 0x7f
	case "graph":
		return c > ' ' && c < 0x7f
	case "cntrl":
		return c < ' ' || c == 0x7f
	case "blank":
		return c == ' ' || c == '\t'
	}
	return false
}

// mapFS is a minimal in-memory fs.FS for Parsed.
type mapFS map[string][]byte

func (m mapFS) Open(name string) (fs.File, error) {
	if b, ok := m[name]; ok {
		return &memFile{Reader: bytes.NewReader(b), info: fileInfo{name: path.Base(name), size: int64(len(b))}}, nil
	}
	if st, err := m.Stat(name); err == nil {
		return &memFile{Reader: bytes.NewReader(nil), info: st.(fileInfo)}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

type memFile struct {
	*bytes.Reader
	info fileInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

func (m mapFS) ReadFile(name string) ([]byte, error) {
	if b, ok := m[name]; ok {
		return bytes.Clone(b), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (m mapFS) Stat(name string) (fs.FileInfo, error) {
	if b, ok := m[name]; ok {
		return fileInfo{name: path.Base(name), size: int64(len(b))}, nil
	}
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return fileInfo{name: path.Base(name), dir: true}, nil
		}
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (m mapFS) ReadDir(name string) ([]fs.DirEntry, error) {
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	seen := map[string]bool{}
	var out []fs.DirEntry
	for k := range m {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		n, _, isDir := strings.Cut(rest, "/")
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, fs.FileInfoToDirEntry(fileInfo{name: n, dir: isDir}))
	}
	if len(out) == 0 {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
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
		return &memFile{Reader: bytes.NewReader(b), info: fileInfo{name: path.Base(name), size: int64(len(b))}}, nil
	}
	return o.base.Open(name)
}

func (o overlayFS) Stat(name string) (fs.FileInfo, error) {
	if b, ok := o.files[name]; ok {
		return fileInfo{name: path.Base(name), size: int64(len(b))}, nil
	}
	return fs.Stat(o.base, name)
}

func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(o.base, name) }
