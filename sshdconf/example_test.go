package sshdconf_test

import (
	"fmt"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// A host as Debian lays it out: the main file includes the drop-ins first,
// so that a drop-in's value beats the main file's.
var host = fstest.MapFS{
	"etc/ssh/sshd_config": {Data: []byte(`Include /etc/ssh/sshd_config.d/*.conf
PasswordAuthentication yes
ClientAliveInterval 300
Match User backup
	ClientAliveInterval 0
	X11Forwarding no
`)},
	"etc/ssh/sshd_config.d/50-cloud-init.conf": {Data: []byte("PasswordAuthentication no\n")},
}

// Load reads a main file and the files it includes from a file system
// rooted at "/" (here in memory; [sshdconf.DirFS]("/") reads the host) and
// evaluates the global section as sshd does: the first value wins.
func ExampleLoad() {
	cfg, err := sshdconf.Load(host, "/etc/ssh/sshd_config", nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := cfg.Err(); err != nil {
		log.Fatal(err) // sshd would refuse the configuration
	}
	for _, f := range cfg.Files {
		fmt.Println("read", f.Name)
	}
	g := cfg.Global()
	for _, s := range g.Get("passwordauthentication") {
		fmt.Printf("%s (from %s)\n", s, s.Pos)
	}
	// Output:
	// read /etc/ssh/sshd_config
	// read /etc/ssh/sshd_config.d/50-cloud-init.conf
	// passwordauthentication no (from /etc/ssh/sshd_config.d/50-cloud-init.conf:1:1)
}

// Effective gives the values sshd uses for one connection, as
// `sshd -T -C user=backup,...` prints them: the Match block overrides the
// global value.
func ExampleConfig_Effective() {
	cfg, err := sshdconf.Load(host, "/etc/ssh/sshd_config", nil)
	if err != nil {
		log.Fatal(err)
	}
	spec, err := sshdconf.ParseConnSpec("user=backup,host=client.example,addr=192.0.2.7,laddr=192.0.2.1,lport=22")
	if err != nil {
		log.Fatal(err)
	}
	eff, err := cfg.Effective(spec)
	if err != nil {
		log.Fatal(err)
	}
	for _, kw := range []string{"clientaliveinterval", "clientalivecountmax", "x11forwarding"} {
		s := eff.Get(kw)[0]
		fmt.Printf("%-24s set at %s\n", s, s.Pos)
	}
	// Output:
	// clientaliveinterval 0    set at /etc/ssh/sshd_config:5:2
	// clientalivecountmax 3    set at default
	// x11forwarding no         set at /etc/ssh/sshd_config:6:2
}

// The Settings of an Effective are the lines of `sshd -T`, in its order,
// defaults included; each knows the line that set it.
func ExampleEffective() {
	cfg, err := sshdconf.Load(host, "/etc/ssh/sshd_config", nil)
	if err != nil {
		log.Fatal(err)
	}
	eff, err := cfg.Effective(sshdconf.ConnSpec{User: "alice", Host: "h", Addr: "192.0.2.7", LAddr: "192.0.2.1", LPort: 22})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(eff.Settings[0]) // the first line of sshd -T
	for _, s := range eff.Settings {
		if !s.Pos.IsDefault() {
			fmt.Println(s, "#", s.Pos)
		}
	}
	// Output:
	// port 22
	// clientaliveinterval 300 # /etc/ssh/sshd_config:3:1
	// passwordauthentication no # /etc/ssh/sshd_config.d/50-cloud-init.conf:1:1
}

// Parse builds a lossless syntax tree: every line keeps its bytes, and
// knows where its keyword and arguments stand.
func ExampleParse() {
	f := sshdconf.Parse("sshd_config", []byte("# hardening\nPermitRootLogin = no   # CIS 5.2.10\n  AcceptEnv LANG \"LC_*\"\n"))
	for _, l := range f.Lines() {
		if !l.IsDirective() {
			fmt.Printf("%d: %q\n", l.Num(), l.Text())
			continue
		}
		fmt.Printf("%d:%d: %s", l.Num(), l.Keyword().Off+1, l.KeywordName())
		for _, a := range l.Args() {
			fmt.Printf(" [%d]%s", a.Off+1, a.Value())
		}
		if c := l.Comment(); c != "" {
			fmt.Printf(" (comment %q)", c)
		}
		fmt.Println()
	}
	// Output:
	// 1: "# hardening"
	// 2:1: PermitRootLogin [19]no (comment "# CIS 5.2.10")
	// 3:3: AcceptEnv [13]LANG [18]LC_*
}

// SetArgs edits one line and keeps everything else of it: the indent, the
// keyword's spelling, the separator and the comment.
func ExampleLine_SetArgs() {
	f := sshdconf.Parse("sshd_config", []byte("Port 22\n  clientaliveinterval\t0   # off\n"))
	f.Line(2).SetArgs("300")
	fmt.Print(string(f.Bytes()))
	// Output:
	// Port 22
	//   clientaliveinterval	300   # off
}

// Parsed evaluates files already parsed, for instance after an edit, as
// sshd would read them.
func ExampleParsed() {
	main := sshdconf.Parse("/etc/ssh/sshd_config", []byte("ClientAliveInterval 0\n"))
	main.Line(1).SetArgs("5m")
	cfg, err := sshdconf.Parsed([]*sshdconf.File{main}, "/etc/ssh/sshd_config", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Global().Get("clientaliveinterval")[0])
	// Output:
	// clientaliveinterval 300
}

// Diagnostics carry sshd's own message and the position of the fault.
func ExampleConfig_Err() {
	fsys := fstest.MapFS{"etc/ssh/sshd_config": {Data: []byte("Port 22\nMatch User bob\n  Port 2222\n")}}
	cfg, err := sshdconf.Load(fsys, "/etc/ssh/sshd_config", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Err())
	for _, m := range cfg.SSHDMessages() {
		fmt.Println("sshd:", m)
	}
	// Output:
	// /etc/ssh/sshd_config:3:3: Port is not allowed inside a Match block
	// sshd: /etc/ssh/sshd_config line 3: Directive 'Port' is not allowed within a Match block
}

// OpenRoot reads a directory tree as if it were "/" (sshwarden's --root):
// absolute Include patterns resolve inside the tree.
func ExampleOpenRoot() {
	dir, err := os.MkdirTemp("", "sshdconf-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for name, text := range map[string]string{
		"etc/ssh/sshd_config":             "Include /etc/ssh/sshd_config.d/*.conf\n",
		"etc/ssh/sshd_config.d/00-x.conf": "MaxAuthTries 3\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	root, err := sshdconf.OpenRoot(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()
	cfg, err := sshdconf.Load(root, "/etc/ssh/sshd_config", nil)
	if err != nil {
		log.Fatal(err)
	}
	s := cfg.Global().Get("maxauthtries")[0]
	fmt.Println(s, "from", s.Pos)
	// Output:
	// maxauthtries 3 from /etc/ssh/sshd_config.d/00-x.conf:1:1
}

// Directives walks every directive in the order sshd reads them, through
// Include lines, with the Match block each belongs to.
func ExampleConfig_Directives() {
	cfg, err := sshdconf.Load(host, "/etc/ssh/sshd_config", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range cfg.Directives() {
		where := "global"
		if d.Match != nil {
			where = "in Match at line " + fmt.Sprint(d.Match.Pos.Line)
		}
		fmt.Printf("%s: %s %v (%s)\n", d.Pos, d.Name, d.Args, where)
	}
	// Output:
	// /etc/ssh/sshd_config:1:1: Include [/etc/ssh/sshd_config.d/*.conf] (global)
	// /etc/ssh/sshd_config.d/50-cloud-init.conf:1:1: PasswordAuthentication [no] (global)
	// /etc/ssh/sshd_config:2:1: PasswordAuthentication [yes] (global)
	// /etc/ssh/sshd_config:3:1: ClientAliveInterval [300] (global)
	// /etc/ssh/sshd_config:4:1: Match [User backup] (global)
	// /etc/ssh/sshd_config:5:2: ClientAliveInterval [0] (in Match at line 4)
	// /etc/ssh/sshd_config:6:2: X11Forwarding [no] (in Match at line 4)
}

// The pattern lists of Match Address and AllowUsers, as sshd matches them.
func ExampleMatchAddressList() {
	list := "10.0.0.0/8,!10.9.9.9,192.0.2.*"
	for _, addr := range []string{"10.1.2.3", "10.9.9.9", "192.0.2.7", "198.51.100.1"} {
		switch sshdconf.MatchAddressList(netip.MustParseAddr(addr), list) {
		case sshdconf.Matched:
			fmt.Println(addr, "matches")
		case sshdconf.Negated:
			fmt.Println(addr, "is refused by a negated pattern")
		case sshdconf.NoMatch:
			fmt.Println(addr, "does not match")
		}
	}
	fmt.Println(sshdconf.CheckAddressList("10.0.0.1/8"))
	// Output:
	// 10.1.2.3 matches
	// 10.9.9.9 is refused by a negated pattern
	// 192.0.2.7 matches
	// 198.51.100.1 does not match
	// invalid address list "10.0.0.1/8"
}
