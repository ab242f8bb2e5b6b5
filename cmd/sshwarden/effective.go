package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/sshwarden/sshwarden/sshdconf"
)

const effectiveUsage = `usage: sshwarden effective [-f FILE] [--root DIR] [--openssh VERSION] [-C SPEC]
                          [--explain] [KEYWORD...]

Prints the configuration sshd uses for a connection, exactly as
"sshd -T -f FILE -C SPEC" prints it, without running sshd, but for the
case of the keywords: always lower case (OpenSSH 10.4 and later print
them in mixed case, "Port 22"). With --explain
each line ends with the file:line that set it, or "# default".

It reads the configuration as the sshd of one OpenSSH release does: this
host's (sshd -V), the release --openssh names, or under --root without
--openssh the newest release known (said on stderr).

Examples:
  sshwarden effective clientaliveinterval clientalivecountmax
  sshwarden effective --explain -C user=alice,host=h,addr=192.0.2.1,laddr=192.0.2.2,lport=22
  sshwarden effective --root ./checkout --explain passwordauthentication
  sshwarden effective --root ./hosts/rhel9 --openssh 8.7 clientalivecountmax

Flags:
`

// configFlags are the flags every command that reads sshd_config shares.
type configFlags struct {
	file string
	root string
	// rel is the release whose sshd reads the configuration: --openssh,
	// or once resolved, the host's sshd or the newest (see resolve).
	rel *sshdconf.Release
	// host, when set, holds the host's users and services for every
	// configuration loaded with it (lint reads them once for all its
	// trees); otherwise each load reads them again.
	host *sshdconf.LoadOptions
}

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "f", "/etc/ssh/sshd_config", "the main sshd configuration `file`")
	fs.Var((*onceFlag)(&c.root), "root", "read the tree `dir` as if it were / (every path, link and .. stays inside it)")
	fs.Var(releaseFlag{&c.rel}, "openssh", opensshUsage)
}

// resolve chooses the release when --openssh did not: under --root the
// newest release known (said on stderr: a checkout does not say which sshd
// serves it), else this host's sshd.
func (c *configFlags) resolve(e *env) {
	switch {
	case c.rel != nil:
	case c.root != "":
		c.rel = sshdconf.Newest()
		newestNote(e.stderr, []string{c.root}, false)
	default:
		c.rel = e.hostRelease()
	}
}

// onceFlag is a string flag that may be given once: a second --root would
// otherwise silently replace the first (only lint takes several).
type onceFlag string

func (o *onceFlag) String() string { return string(*o) }

func (o *onceFlag) Set(v string) error {
	if *o != "" {
		return errors.New("given twice (only lint takes several)")
	}
	if v == "" {
		return errors.New("empty directory")
	}
	*o = onceFlag(v)
	return nil
}

// load reads the configuration as sshd would on this host (or under
// --root). The names in the returned Config are sshd's; display maps them
// to what the user should see. Under --root the tree stays open while the
// Config is in use (lazily: checks list folders, fix re-reads the tree),
// and is closed when the Config is garbage; open says when.
func (c *configFlags) load() (*sshdconf.Config, func(string) string, error) {
	cfg, display, _, err := c.open()
	return cfg, display, err
}

// open is load, with a function to call once the Config is no longer used:
// it closes the --root tree (lint opens one per tree of a fleet).
//
// --root DIR reads DIR as if it were "/", with chroot semantics: every
// name, symbolic link (absolute ones too) and ".." is resolved inside DIR
// by sshdconf.RootFS, so that a tree cannot make sshwarden read or print a
// file of this host. The host's users, groups, service names and network
// interfaces (Match Group, Port ssh, fe80::1%eth0) are still this host's:
// a checkout has none.
func (c *configFlags) open() (*sshdconf.Config, func(string) string, func(), error) {
	main := c.file
	var fsys fs.FS = sshdconf.DirFS("/")
	cwd := "/"
	display := func(n string) string { return n }
	done := func() {}
	if c.root != "" {
		if !strings.HasPrefix(main, "/") {
			main = "/" + main
		}
		root := c.root
		display = func(n string) string { return filepath.Join(root, n) }
		r, err := sshdconf.OpenRoot(root)
		if err != nil {
			return nil, nil, nil, rootError(root, err)
		}
		fsys, done = r, func() { r.Close() }
	}
	host := c.host
	if host == nil {
		host = hostFiles()
	}
	if c.root == "" {
		cwd = host.Cwd // relative names resolve as for sshd -T run here
	}
	opt := &sshdconf.LoadOptions{Users: host.Users, Services: host.Services, Cwd: cwd, Release: c.rel}
	cfg, err := sshdconf.Load(fsys, main, opt)
	if err != nil {
		done()
		var over *sshdconf.BudgetError
		if errors.As(err, &over) {
			return nil, nil, nil, budgetError(over, display)
		}
		return nil, nil, nil, fmt.Errorf("%s: %s", display(main), strings.TrimPrefix(err.Error(), main+": "))
	}
	return cfg, display, done, nil
}

// budgetError says where the budget of a load ran out, in the names the
// user gave.
func budgetError(over *sshdconf.BudgetError, display func(string) string) error {
	where := display(over.Pos.File)
	if over.Pos.Line > 0 {
		where += ":" + strconv.Itoa(over.Pos.Line)
	}
	return fmt.Errorf("%s: %s", where, over.Msg)
}

// rootError says why --root DIR cannot be read.
func rootError(root string, err error) error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("--root %s: not a directory", root)
	case errors.As(err, &errno):
		return fmt.Errorf("--root %s: %s", root, errno.Error())
	}
	return fmt.Errorf("--root %s: %w", root, err)
}

// hostFiles reads the host's users and groups, and its services file on
// first use, as sshd resolves Match User/Group and Port names, and the
// working directory that relative names resolve against.
func hostFiles() *sshdconf.LoadOptions {
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "/"
	}
	return &sshdconf.LoadOptions{
		Users:    sshdconf.LoadFileUsers(os.DirFS("/")),
		Services: sshdconf.ServicesFile(os.DirFS("/")),
		Cwd:      cwd,
	}
}

func runEffective(e *env, args []string) int {
	fs := flag.NewFlagSet("effective", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, effectiveUsage); fs.PrintDefaults() }
	var cf configFlags
	cf.register(fs)
	spec := fs.String("C", "", "connection `spec` user=U,host=H,addr=A,laddr=L,lport=P as for sshd -T -C")
	explain := fs.Bool("explain", false, "end each line with the file:line that set it")
	keywords, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	// lport= may name a service (lport=ssh), as for sshd: the host's.
	if cf.host == nil {
		cf.host = hostFiles()
	}
	cs, err := sshdconf.ParseConnSpecWith(*spec, cf.host.Services)
	if err != nil {
		e.errorf("-C: %v", err)
		return exitUsage
	}
	for _, k := range keywords {
		if sshdconf.Lookup(k) == nil && k != "listenaddress" {
			e.errorf("unknown keyword %q", k)
			return exitUsage
		}
	}
	cf.resolve(e)
	cfg, display, done, err := cf.open()
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	defer done()
	eff, err := cfg.Effective(cs)
	var over *sshdconf.BudgetError
	if errors.As(err, &over) {
		e.errorf("%v", budgetError(over, display))
		return exitUsage
	}
	if err != nil {
		// sshd's own messages, as sshd -T prints them.
		for _, m := range cfg.SSHDMessages() {
			fmt.Fprintln(e.stderr, m)
		}
		var d sshdconf.Diag
		if errors.As(err, &d) && cfg.Err() == nil {
			fmt.Fprintln(e.stderr, d.SSHD)
		}
		return exitFindings
	}
	want := map[string]bool{}
	for _, k := range keywords {
		want[printedName(k)] = true
	}
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	for _, s := range eff.Settings {
		if len(want) > 0 && !want[s.Keyword] {
			continue
		}
		// The interface contract prints keywords in lower case, on every
		// release: from 10.4 sshd -T prints them in mixed case (Port),
		// which only the case tells apart.
		name := s.Keyword
		if s.Name != "" {
			name = strings.ToLower(s.Name) // an old name (pubkeyacceptedkeytypes)
		}
		line := name + " " + s.Value
		if *explain {
			where := "default"
			if !s.Pos.IsDefault() {
				where = display(s.Pos.File) + ":" + strconv.Itoa(s.Pos.Line)
			}
			line += "  # " + where
		}
		fmt.Fprintln(w, line)
	}
	return exitOK
}

// printedName maps a keyword or alias to the name sshd -T prints.
func printedName(k string) string {
	if kw := sshdconf.Lookup(k); kw != nil && kw.AliasOf != "" {
		return strings.ToLower(kw.AliasOf)
	}
	return strings.ToLower(k)
}
