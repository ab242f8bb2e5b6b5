package sshdconf_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/sshdconf"
)

// TestRandomTreesAgainstSSHD is a property-based differential test: it
// generates random sshd_config trees (includes, drop-ins, Match blocks, odd
// spellings, now and then one invalid line) and compares the model with the
// real sshd on each, for the empty spec and a few connection specs.
//
// SSHWARDEN_ORACLE_SEEDS=N runs seeds 1..N (default 150);
// SSHWARDEN_ORACLE_SEED=N runs seed N alone (or -run 'TestRandomTreesAgainstSSHD/seed=N$').
func TestRandomTreesAgainstSSHD(t *testing.T) {
	o := oracle.Need(t)
	var seeds []uint64
	if s := os.Getenv("SSHWARDEN_ORACLE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SSHWARDEN_ORACLE_SEED=%q: %v", s, err)
		}
		seeds = []uint64{n}
	} else {
		count := uint64(150)
		if s := os.Getenv("SSHWARDEN_ORACLE_SEEDS"); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				t.Fatalf("SSHWARDEN_ORACLE_SEEDS=%q: %v", s, err)
			}
			count = n
		}
		for i := uint64(1); i <= count; i++ {
			seeds = append(seeds, i)
		}
	}
	// The subtests run one after the other: each one mounts a private
	// namespace, and concurrent namespaces only slow each other down.
	accepted := 0
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			tree := generateTree(seed)
			name := fmt.Sprintf("seed %d", seed)
			specs := append([]string{"-t", ""}, tree.specs...)
			if compareTree(t, o, name, tree.files, tree.main, specs) {
				accepted++
			}
			if len(seeds) == 1 && !t.Failed() {
				t.Logf("seed %d:\n%s", seed, tree.dump())
			}
			if t.Failed() {
				t.Logf("seed %d: replay with SSHWARDEN_ORACLE_SEED=%d go test ./sshdconf -run TestRandomTreesAgainstSSHD -count=1 -v\n%s",
					seed, seed, tree.dump())
			}
		})
	}
	t.Logf("%d trees, %d accepted by sshd -t", len(seeds), accepted)
}

// genTree is one generated tree: files keyed "etc/ssh/...", the main file
// and the connection specs to compare.
type genTree struct {
	files map[string][]byte
	order []string
	main  string
	specs []string
}

func (g *genTree) dump() string {
	var b strings.Builder
	for _, spec := range g.specs {
		fmt.Fprintf(&b, "spec %s\n", spec)
	}
	for _, n := range g.order {
		fmt.Fprintf(&b, "-- %s --\n%q\n", n, g.files[n])
	}
	return b.String()
}

// generator holds the state of one tree's generation.
type generator struct {
	r          *rand.Rand
	subsystems int  // Subsystem names used so far (names must be distinct)
	invalid    bool // this tree gets one invalid line
	invalidPut bool
	lines      int // lines generated so far, to place the invalid one
	invalidAt  int
	hasMatch   bool
	// rel is the release a tree is made for (nil: the trees of
	// TestRandomTreesAgainstSSHD, Debian 12's 9.2, as they always were).
	// With a release, the generator also writes the keywords and Match
	// criteria of other releases (newer keywords, old names, Debian's),
	// mostly those rel knows, now and then one it refuses; see
	// directive.in.
	rel *sshdconf.Release
	// noInclude: this tree has no Include line (a release before 8.2,
	// which refuses Include, mostly gets such trees).
	noInclude bool
}

func (g *generator) intn(n int) int        { return g.r.IntN(n) }
func (g *generator) chance(p float64) bool { return g.r.Float64() < p }
func pick[T any](g *generator, xs ...T) T  { return xs[g.r.IntN(len(xs))] }

// file builds one file's lines, then joins them with its own line ending.
type file struct {
	lines []string
}

func (f *file) add(l ...string) { f.lines = append(f.lines, l...) }

func (g *generator) render(f *file) []byte {
	eol := "\n"
	if g.chance(0.12) {
		eol = "\r\n"
	}
	s := strings.Join(f.lines, eol)
	if len(f.lines) > 0 && !g.chance(0.1) { // sometimes no final newline
		s += eol
	}
	return []byte(s)
}

// Connection values: users and groups of internal/oracle, plus addresses
// and hosts the Match patterns below are built to hit.
var (
	genUsers  = []string{"alice", "bob", "carol", "deploy", "root", "mallory"}
	genHosts  = []string{"ws1.corp.example", "h1.corp.example", "ci.example.com", "bad.example.com", "home.example.net", "localhost"}
	genAddrs  = []string{"10.20.30.40", "10.1.2.3", "192.0.2.5", "192.0.2.77", "198.51.100.9", "203.0.113.8", "127.0.0.1", "::1", "2001:db8::5", "2001:db8:1::7", "fe80::1"}
	genLaddrs = []string{"192.0.2.1", "10.0.0.1", "127.0.0.1", "::1", "2001:db8::1"}
	genLports = []string{"22", "2222", "2200"}
)

func generateTree(seed uint64) *genTree { return generateReleaseTree(seed, nil) }

// generateReleaseTree is generateTree for release rel: the same kinds of
// trees, with the keywords and Match criteria of every release mixed in
// (see generator.rel). rel nil gives generateTree's trees.
func generateReleaseTree(seed uint64, rel *sshdconf.Release) *genTree {
	g := &generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rel: rel}
	g.invalid = g.intn(8) == 0
	g.invalidAt = g.intn(20)
	if rel != nil && rel.Before("8.2") {
		g.noInclude = g.chance(0.85)
	}
	t := &genTree{files: map[string][]byte{}, main: "/etc/ssh/sshd_config"}
	put := func(name string, f *file) {
		if _, ok := t.files[name]; !ok {
			t.order = append(t.order, name)
		}
		t.files[name] = g.render(f)
	}

	// Drop-ins: names chosen to exercise glob(3)'s bytewise sort and its
	// treatment of dot files and other suffixes.
	dropNames := []string{"10-a.conf", "2-b.conf", "B.conf", "_z.conf", "a.conf", ".hidden.conf", "x.conf.disabled", "README"}
	var drops []string
	for _, n := range dropNames {
		if g.chance(0.45) {
			drops = append(drops, n)
		}
	}
	nestedUsed := false
	for i, n := range drops {
		f := &file{}
		if g.chance(0.3) {
			f.add("# drop-in " + n)
		}
		g.directives(f, false, 1+g.intn(4))
		if !nestedUsed && !g.noInclude && g.chance(0.3) {
			nestedUsed = true
			f.add(g.kw("Include") + g.sep() + pick(g, "/etc/ssh/nested/level1.conf", "nested/level1.conf"))
			g.directives(f, false, g.intn(2))
		}
		if i == len(drops)-1 || g.chance(0.25) {
			if g.chance(0.4) { // a Match opened inside a drop-in ends with it
				g.matchBlock(f, 1+g.intn(3))
			}
		}
		put("etc/ssh/sshd_config.d/"+n, f)
	}
	if nestedUsed {
		f := &file{}
		g.directives(f, false, 1+g.intn(3))
		if g.chance(0.7) {
			f.add(g.kw("Include") + g.sep() + "/etc/ssh/nested/level2/*.conf")
		}
		g.directives(f, false, g.intn(2))
		put("etc/ssh/nested/level1.conf", f)
		for _, n := range []string{"a.conf", "b.conf"} {
			if g.chance(0.6) {
				f := &file{}
				g.directives(f, false, 1+g.intn(3))
				if g.chance(0.2) {
					g.matchBlock(f, 1+g.intn(2))
				}
				put("etc/ssh/nested/level2/"+n, f)
			}
		}
	}

	// Files included from inside a Match block: only Match-allowed keywords,
	// and sometimes a nested Match.
	matchIncl := false
	if !g.noInclude && g.chance(0.35) {
		matchIncl = true
		for _, n := range []string{"10-m.conf", "20-m.conf"} {
			if g.chance(0.7) {
				f := &file{}
				g.directives(f, true, 1+g.intn(3))
				if g.chance(0.3) {
					g.matchBlock(f, 1+g.intn(2))
				}
				put("etc/ssh/match.d/"+n, f)
			}
		}
	}

	// The main file.
	m := &file{}
	if g.chance(0.4) {
		m.add("# This is the sshd server system-wide configuration file.", "")
	}
	switch x := g.intn(10); {
	case g.noInclude:
	case x < 7:
		m.add(g.kw("Include") + g.sep() + "/etc/ssh/sshd_config.d/*.conf")
	case x < 9:
		m.add(g.kw("Include") + g.sep() + "sshd_config.d/*.conf")
	}
	if g.chance(0.3) {
		m.add("")
	}
	if g.chance(0.4) {
		m.add(g.line(directive{kw: "Port", args: pick(g, "22", "2222", "2200")}))
		if g.chance(0.3) {
			m.add(g.line(directive{kw: "Port", args: pick(g, "22", "2222", "2200")}))
		}
	}
	g.directives(m, false, 3+g.intn(10))
	if g.chance(0.25) && !g.noInclude { // several paths on one line, and patterns matching nothing
		paths := []string{"/etc/ssh/extra.d/*.conf", "/etc/ssh/none.d/*.conf", "/etc/ssh/missing.conf", "extra.d/*.conf", "/etc/ssh/sshd_config.d/*.nomatch"}
		g.r.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
		m.add(g.kw("Include") + g.sep() + strings.Join(paths[:1+g.intn(3)], pick(g, " ", "\t", "  ")))
		if g.chance(0.6) {
			f := &file{}
			g.directives(f, false, 1+g.intn(3))
			put("etc/ssh/extra.d/e.conf", f)
		}
	}
	if g.chance(0.2) {
		m.add("")
		g.directives(m, false, 1+g.intn(3))
	}
	nm := g.intn(4)
	if matchIncl && nm == 0 {
		nm = 1
	}
	inclAt := g.intn(nm + 1)
	for i := 0; i < nm; i++ {
		if g.chance(0.5) {
			m.add("")
		}
		g.matchBlock(m, g.intn(4))
		if matchIncl && i == inclAt%nm {
			m.add(pick(g, "\t", "  ", "") + g.kw("Include") + g.sep() + "/etc/ssh/match.d/*.conf")
			g.directives(m, true, g.intn(2))
		}
	}
	if g.invalid && !g.invalidPut {
		m.add(g.invalidLine(nm > 0))
		g.invalidPut = true
	}
	t.files["etc/ssh/sshd_config"] = g.render(m)
	t.order = append([]string{"etc/ssh/sshd_config"}, t.order...)

	for i, n := 0, 3+g.intn(2); i < n; i++ {
		t.specs = append(t.specs, fmt.Sprintf("user=%s,host=%s,addr=%s,laddr=%s,lport=%s",
			pick(g, genUsers...), pick(g, genHosts...), pick(g, genAddrs...), pick(g, genLaddrs...), pick(g, genLports...)))
		if g.rel != nil && g.rel.AtLeast("9.9") && g.chance(0.25) {
			t.specs[len(t.specs)-1] += ",invalid-user" // Match Invalid-User
		}
	}
	return t
}

// kw spells a keyword oddly now and then.
func (g *generator) kw(k string) string {
	switch x := g.intn(20); {
	case x == 0:
		return strings.ToLower(k)
	case x == 1:
		return strings.ToUpper(k)
	case x == 2:
		b := []byte(k)
		for i := range b {
			isLetter := b[i] >= 'a' && b[i] <= 'z' || b[i] >= 'A' && b[i] <= 'Z'
			if isLetter && g.chance(0.5) {
				b[i] ^= 0x20
			}
		}
		return string(b)
	case x == 3:
		return `"` + k + `"`
	}
	return k
}

// sep is the separator between keyword and arguments.
func (g *generator) sep() string {
	switch x := g.intn(20); {
	case x < 13:
		return " "
	case x < 15:
		return "\t"
	case x == 15:
		return "="
	case x == 16:
		return " = "
	case x == 17:
		return "\t\t"
	case x == 18:
		return "  "
	}
	return "= "
}

// indent of a line.
func (g *generator) indent(inMatch bool) string {
	if inMatch {
		return pick(g, "\t", "\t", "    ", "  ", "", " \t")
	}
	if g.chance(0.1) {
		return pick(g, " ", "\t", "  ")
	}
	return ""
}

// quote wraps a lone argument in double or single quotes now and then.
func (g *generator) quote(arg string) string {
	if strings.ContainsAny(arg, " \t\"'#") || arg == "" {
		return arg
	}
	switch g.intn(14) {
	case 0:
		return `"` + arg + `"`
	case 1:
		// Before 8.7 a single quote is a character like any other: a
		// tree for such a release mostly gets double quotes.
		if g.rel != nil && g.rel.Before("8.7") && g.chance(0.8) {
			return `"` + arg + `"`
		}
		return "'" + arg + "'"
	}
	return arg
}

// directive is one generated keyword with its arguments.
type directive struct {
	kw     string
	args   string
	global bool // not allowed in a Match block
	raw    bool // args must not be re-quoted or commented (take the rest of the line)
	// Which releases know the keyword, as the generator believes (it only
	// steers how often a tree has a line its release refuses; the
	// comparison with sshd is the judge): from since, before until, only
	// Debian's build (debian), only a build with GSSAPI (gss); allowed in a
	// Match block from matchSince (when set; otherwise unless global).
	since, until, matchSince string
	debian, gss              bool
}

// in reports whether the generator believes release r knows d.
func (d directive) in(r *sshdconf.Release) bool {
	return (d.since == "" || r.AtLeast(d.since)) && (d.until == "" || r.Before(d.until)) &&
		(!d.debian || r.Debian()) && (!d.gss || r.GSSAPI())
}

// inMatch reports whether the generator believes release r (nil: 9.2)
// allows d in a Match block.
func (d directive) inMatch(r *sshdconf.Release) bool {
	if r == nil || d.matchSince == "" {
		return !d.global
	}
	return r.AtLeast(d.matchSince)
}

var genTimes = []string{"0", "30", "90", "010", "2m", "1h", "1h30m", "1M1m", "5m30s", "1d", "1w", "45s", "10M"}

func (g *generator) directive() directive {
	d := func(kw, args string) directive { return directive{kw: kw, args: args} }
	gl := func(kw, args string) directive { return directive{kw: kw, args: args, global: true} }
	yn := func() string { return pick(g, "yes", "no") }
	// algs builds an algorithm list; wildcards are only valid after "-".
	algs := func(names ...string) string {
		prefix := pick(g, "", "+", "-", "^", "+", "-")
		n := 1 + g.intn(2)
		var out []string
		for len(out) < n {
			a := pick(g, names...)
			if prefix != "-" && strings.Contains(a, "*") {
				continue
			}
			out = append(out, a)
		}
		return prefix + strings.Join(out, ",")
	}
	gens := []genFunc{
		{6, func() directive { return d("ClientAliveInterval", pick(g, genTimes...)) }},
		{4, func() directive { return d("ClientAliveCountMax", pick(g, "0", "3", "5", "10")) }},
		{3, func() directive { return gl("LoginGraceTime", pick(g, genTimes...)) }},
		{3, func() directive {
			return since("9.2", d("UnusedConnectionTimeout", pick(g, "none", "0", "5m", "1h30m", "NONE", "30")))
		}},
		{3, func() directive {
			return since("9.2", d("ChannelTimeout", pick(g, "session:*=5m", "session=1m", "none", "session=1m global=1h",
				"agent-connection=10m direct-tcpip=1h", "x11-connection=30s", "session:shell=1h30m session:*=5m", "session=1m none")))
		}},
		{4, func() directive { return d("MaxSessions", pick(g, "0", "1", "2", "10", "15")) }},
		{4, func() directive { return d("MaxAuthTries", pick(g, "1", "3", "6", "10")) }},
		{6, func() directive {
			return d("PermitRootLogin", pick(g, "yes", "no", "prohibit-password", "without-password", "forced-commands-only"))
		}},
		{5, func() directive { return d("PasswordAuthentication", yn()) }},
		{3, func() directive { return d("KbdInteractiveAuthentication", yn()) }},
		{3, func() directive {
			x := d("ChallengeResponseAuthentication", yn())
			x.matchSince = "8.7" // a keyword of its own, global only, before 8.7
			return x
		}},
		{3, func() directive { return d("PubkeyAuthentication", yn()) }},
		{4, func() directive { return d("X11Forwarding", yn()) }},
		{4, func() directive { return d("AllowTcpForwarding", pick(g, "yes", "no", "local", "remote", "all")) }},
		{3, func() directive { return d("GatewayPorts", pick(g, "yes", "no", "clientspecified")) }},
		{3, func() directive { return d("PermitTTY", yn()) }},
		{2, func() directive {
			return d("PermitTunnel", pick(g, "yes", "no", "point-to-point", "ethernet"))
		}},
		{3, func() directive {
			return d("Banner", pick(g, "none", "/etc/issue.net", "/etc/ssh/banner", `"/etc/ssh/my banner.txt"`))
		}},
		{3, func() directive {
			return directive{kw: "ForceCommand", args: pick(g, "internal-sftp", "/usr/bin/rrsync -ro /var/backups",
				"internal-sftp -d /upload", "/bin/echo hello  world", "none"), raw: true}
		}},
		{2, func() directive { return d("ChrootDirectory", pick(g, "/srv/chroot/%u", "none", "/var/sftp", "%h")) }},
		{3, func() directive {
			return d("AuthorizedKeysFile", pick(g, ".ssh/authorized_keys", ".ssh/authorized_keys .ssh/authorized_keys2",
				"/etc/ssh/keys/%u", "none", "/etc/ssh/keys/%u .ssh/authorized_keys"))
		}},
		{2, func() directive {
			return d("AllowUsers", pick(g, "alice bob", "*@10.0.0.0/8", "deploy@192.0.2.*", "alice carol@::1", "root"))
		}},
		{2, func() directive { return d("DenyUsers", pick(g, "mallory", "root bob", "*@203.0.113.*")) }},
		{2, func() directive { return d("AllowGroups", pick(g, "ssh-users", "ssh-users wheel", "admins")) }},
		{2, func() directive { return d("DenyGroups", pick(g, "sftponly", "nogroup developers")) }},
		{3, func() directive { return d("AcceptEnv", pick(g, "LANG LC_*", "GIT_*", "LANG", "COLORTERM NO_COLOR")) }},
		{2, func() directive {
			return d("SetEnv", pick(g, "FOO=bar", "A=1 B=2", `"GREETING=hello world"`, "FOO=baz"))
		}},
		{3, func() directive {
			g.subsystems++
			name := fmt.Sprintf("sub%d", g.subsystems)
			if g.subsystems == 1 {
				name = "sftp"
			}
			return directive{kw: "Subsystem", args: name + " " + pick(g, "/usr/lib/openssh/sftp-server", "internal-sftp",
				"/usr/lib/openssh/sftp-server -f AUTHPRIV -l INFO"), global: true, raw: true, matchSince: "9.5"}
		}},
		{4, func() directive {
			return d("LogLevel", pick(g, "QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", "info", "Verbose"))
		}},
		{2, func() directive {
			return gl("SyslogFacility", pick(g, "AUTH", "AUTHPRIV", "DAEMON", "USER", "LOCAL0", "LOCAL7", "authpriv"))
		}},
		{3, func() directive { return gl("MaxStartups", pick(g, "10", "10:30:100", "20:30:80", "5:50:20", "100")) }},
		{2, func() directive { return since("8.5", gl("PerSourceMaxStartups", pick(g, "none", "3", "10"))) }},
		{2, func() directive {
			return since("8.5", gl("PerSourceNetBlockSize", pick(g, "32", "24:64", "16:48", "8")))
		}},
		{3, func() directive {
			q := []string{"af21", "af11", "cs1", "cs0", "ef", "lowdelay", "throughput", "reliability", "8", "0x20", "010", "255", "none", "le", "af42"}
			if g.chance(0.5) {
				return d("IPQoS", pick(g, q...))
			}
			return d("IPQoS", pick(g, q...)+" "+pick(g, q...))
		}},
		{3, func() directive {
			return d("RekeyLimit", pick(g, "1G", "512M 1h", "default none", "default", "4G 30m", "100K", "1G none", "64K 1h30m", "0", "default 1h", "16 0"))
		}},
		{2, func() directive { return d("StreamLocalBindMask", pick(g, "0177", "022", "0077", "7", "0")) }},
		{2, func() directive { return gl("FingerprintHash", pick(g, "sha256", "md5", "SHA256")) }},
		{3, func() directive {
			return gl("Ciphers", algs("aes128-ctr", "aes256-ctr", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-cbc", "3des-cbc", "*cbc", "aes192-ctr"))
		}},
		{3, func() directive {
			return gl("MACs", algs("hmac-sha2-256", "hmac-sha2-512-etm@openssh.com", "hmac-sha1", "umac-64@openssh.com", "*sha1*", "hmac-md5", "umac-128-etm@openssh.com"))
		}},
		{3, func() directive {
			return gl("KexAlgorithms", algs("curve25519-sha256", "sntrup761x25519-sha512@openssh.com", "diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1", "ecdh-sha2-nistp256", "diffie-hellman-group-exchange-sha256", "*sha1"))
		}},
		{2, func() directive {
			return gl("HostKeyAlgorithms", algs("ssh-ed25519", "ssh-rsa", "rsa-sha2-512", "ecdsa-sha2-nistp256", "ssh-dss", "ssh-ed25519-cert-v01@openssh.com", "*-cert-v01@openssh.com"))
		}},
		{2, func() directive {
			return since("8.5", d("PubkeyAcceptedAlgorithms", algs("ssh-ed25519", "ssh-rsa", "rsa-sha2-256", "ecdsa-sha2-nistp384", "ssh-dss", "sk-ssh-ed25519@openssh.com", "ssh-rsa*")))
		}},
		{2, func() directive {
			return d("PermitOpen", pick(g, "any", "none", "localhost:8080", "db.internal:5432 10.0.0.5:443", "*:443", "[::1]:22", "localhost:*"))
		}},
		{2, func() directive {
			return d("PermitListen", pick(g, "any", "none", "8080", "localhost:8080", "*:9000", "127.0.0.1:2000 3000"))
		}},
		{2, func() directive { return gl("PermitUserEnvironment", pick(g, "yes", "no", "LANG,LC_*", "FOO")) }},
		{3, func() directive {
			// "any" is fatal after any earlier AuthenticationMethods line,
			// even an inactive one: keep it rare.
			if g.chance(0.1) {
				return d("AuthenticationMethods", "any")
			}
			return d("AuthenticationMethods", pick(g, "publickey", "publickey,password", "publickey,keyboard-interactive:pam",
				"publickey,password publickey,keyboard-interactive", "password", "keyboard-interactive"))
		}},
		{2, func() directive { return gl("AddressFamily", pick(g, "any", "inet", "inet6")) }},
		{2, func() directive {
			return gl("ListenAddress", pick(g, "127.0.0.1", "0.0.0.0", "::1", "[::1]:2222", "127.0.0.1:2200"))
		}},
		{2, func() directive { return gl("UseDNS", yn()) }},
		{2, func() directive { return gl("Compression", pick(g, "yes", "no", "delayed")) }},
		{2, func() directive { return gl("VersionAddendum", pick(g, "none", "Debian-1", "hello world")) }},
		{1, func() directive { return gl("PidFile", pick(g, "/run/sshd.pid", "none", "/var/run/sshd2.pid")) }},
		{1, func() directive { return gl("HostKey", "/etc/ssh/ssh_host_ed25519_key") }},
		{2, func() directive {
			return since("8.5", d("LogVerbose", pick(g, "kex.c:*:1000", "auth.c:*", "none", "kex.c:*:1000,*:kex_exchange_identification():*")))
		}},
		{1, func() directive { return gl("Protocol", "2") }},
		{1, func() directive { return gl("UsePrivilegeSeparation", "yes") }},
		{2, func() directive { return gl("UsePAM", yn()) }},
		{2, func() directive { return gl("PrintMotd", yn()) }},
		{2, func() directive { return d("AllowAgentForwarding", yn()) }},
	}
	if g.rel != nil {
		gens = append(gens, g.releaseGens(d, gl, yn, algs)...)
	}
	total := 0
	for _, x := range gens {
		total += x.w
	}
	n := g.intn(total)
	for _, x := range gens {
		if n < x.w {
			return x.f()
		}
		n -= x.w
	}
	panic("unreachable")
}

// directives adds n directive lines (only Match-allowed ones when inMatch),
// and at most once per tree, the invalid line.
func (g *generator) directives(f *file, inMatch bool, n int) {
	for i := 0; i < n; i++ {
		g.lines++
		if g.invalid && !g.invalidPut && g.lines >= g.invalidAt {
			g.invalidPut = true
			f.add(g.indent(inMatch) + g.invalidLine(inMatch))
			continue
		}
		if g.chance(0.07) {
			f.add(pick(g, "", "#", "# a comment", "   ", "\t", "#PermitRootLogin yes"))
		}
		var d directive
		for {
			d = g.directive()
			if inMatch && !d.inMatch(g.rel) {
				// Now and then, a keyword Match allows from a later
				// release, in a Match of an earlier one.
				if g.rel == nil || d.matchSince == "" || !g.chance(0.1) {
					continue
				}
			}
			// Mostly keywords the release knows: a line it refuses makes
			// the whole tree refused.
			if g.rel != nil && !d.in(g.rel) && g.chance(0.85) {
				continue
			}
			break
		}
		f.add(g.indent(inMatch) + g.line(d))
	}
}

// line spells one directive, with an odd separator, quoting or comment.
func (g *generator) line(d directive) string {
	args := d.args
	if !d.raw && !strings.ContainsAny(args, " \"") {
		args = g.quote(args)
	}
	k, sep := g.kw(d.kw), g.sep()
	if strings.HasPrefix(k, `"`) && strings.Contains(sep, "=") {
		sep = " " // `"Key"=value` passes "=" as the first argument
	}
	s := k + sep + args
	if g.chance(0.06) {
		s += pick(g, " # comment", "\t# tab comment", " #")
	}
	if g.chance(0.05) {
		s += pick(g, " ", "\t", "  \t")
	}
	return s
}

// matchBlock adds a Match line and n directives.
func (g *generator) matchBlock(f *file, n int) {
	g.hasMatch = true
	k, sep := g.kw("Match"), g.sep()
	if strings.HasPrefix(k, `"`) && strings.Contains(sep, "=") {
		sep = "\t"
	}
	f.add(k + sep + g.matchCriteria())
	g.directives(f, true, n)
}

func (g *generator) matchCriteria() string {
	crit := func() string {
		var name, val string
		n := 13
		if g.rel != nil {
			n = 16 // the criteria of later releases too
		}
		switch g.intn(n) {
		case 0:
			name = "User"
			val = pick(g, "alice", "alice,bob", "!root,*", "a*", "?ob", "*", "!mallory,*", "root", "deploy,carol", "!alice", "mallory")
		case 1:
			name = "Group"
			val = pick(g, "admins", "developers,wheel", "sftponly", "!wheel,*", "ssh-users", "nosuchgroup", "dev*", "!sftponly")
		case 2:
			name = "Host"
			val = pick(g, "*.example.com", "h?.corp.example", "!bad.example.com,*", "*", "ci.example.com", "*.corp.example,localhost")
		case 3:
			name = "Address"
			val = pick(g, "10.0.0.0/8", "192.0.2.0/24,198.51.100.0/24", "!10.1.0.0/16,10.0.0.0/8", "2001:db8::/32", "::1", "127.0.0.1",
				"198.51.100.*", "*", "!192.0.2.5,192.0.2.0/24", "fe80::/10", "2001:db8::/48,10.20.30.40", "!203.0.113.8")
		case 4:
			name = "LocalAddress"
			val = pick(g, "192.0.2.1", "10.0.0.0/8", "::1", "2001:db8::1", "127.*", "!127.0.0.1,*", "2001:db8::/32")
		case 5: // rare: without a connection spec sshd -T refuses it
			name = "LocalPort"
			val = pick(g, "22", "2222", "2200")
		case 13: // 9.9 on: no argument
			if g.chance(0.5) {
				return pick(g, "Invalid-User", "invalid-user", "INVALID-USER")
			}
			name, val = "RDomain", pick(g, "vrf-mgmt", "*", "!vrf-*")
		case 14: // 10.0 on
			name = "Version"
			val = pick(g, "OpenSSH_10.*", "OpenSSH_9*", "*", "!OpenSSH_8*,*", "OpenSSH_10.0*")
		case 15:
			name = "User"
			val = pick(g, "alice", "root")
			return name + "=" + val
		default:
			name = "User"
			val = pick(g, "alice", "bob", "carol", "deploy")
		}
		if g.chance(0.15) {
			name = strings.ToLower(name)
		}
		if g.chance(0.1) {
			return name + "=" + val
		}
		if g.chance(0.06) {
			val = `"` + val + `"`
		}
		return name + pick(g, " ", " ", "\t", "  ") + val
	}
	var s string
	switch x := g.intn(12); {
	case x == 0:
		s = pick(g, "All", "all")
	case x < 4:
		s = crit() + " " + crit()
	default:
		s = crit()
	}
	if g.chance(0.1) {
		s += pick(g, " # trailing comment", "\t#c")
	}
	return s
}

// invalidLine is one line sshd refuses.
func (g *generator) invalidLine(inMatch bool) string {
	bad := []string{
		"NoSuchKeyword yes",
		"UseDNS true",
		"ClientAliveInterval 5x",
		"PermitRootLogin maybe",
		"MaxAuthTries 40#c",
		"X11Forwarding yes no",
		`Banner "/etc/ssh/unclosed`,
		"Include",
		"Match User a, b",
		"Match Foo x",
		"Match Address 10.0.0.1/8",
		"LoginGraceTime 1 h",
		"MaxSessions -1",
		"AllowTcpForwarding maybe",
		"RekeyLimit 10",
		"ChannelTimeout none session=1m",
		"Match All User alice",
		"IPQoS af21 af22 af23",
		"Ciphers +nosuch-cipher",
		"PermitOpen foo",
		"RekeyLimit 2G default",
		`"X11Forwarding"= no`,
		"Ciphers +*cbc",
		"AuthenticationMethods publickey,bogus",
		"Protocol",
	}
	if inMatch {
		bad = append(bad, "Port 2222", "Ciphers aes128-ctr", "Subsystem sftp internal-sftp", "ListenAddress 127.0.0.1")
	}
	return pick(g, bad...)
}

// genFunc is a directive generator and its weight.
type genFunc struct {
	w int
	f func() directive
}

func since(v string, d directive) directive { d.since = v; return d }

// releaseGens are the directives of the trees made for a release (see
// generator.rel): keywords that came, went or changed between 8.0 and
// 10.6, old names, Debian's and GSSAPI's, and keywords of 9.2 the plain
// trees do not write.
func (g *generator) releaseGens(d, gl func(kw, args string) directive, yn func() string, algs func(...string) string) []genFunc {
	keyTypes := []string{"ssh-ed25519", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519-cert-v01@openssh.com", "rsa-sha2-512"}
	gss := func(x directive) directive { x.gss = true; return x }
	deb := func(x directive) directive { x.debian = true; return x }
	return []genFunc{
		// Old names and their successors.
		{2, func() directive { return d("PubkeyAcceptedKeyTypes", algs(keyTypes...)) }},
		{1, func() directive { return d("HostbasedAcceptedKeyTypes", algs(keyTypes...)) }},
		{1, func() directive { return since("8.5", d("HostbasedAcceptedAlgorithms", algs(keyTypes...))) }},
		{1, func() directive { return d("CASignatureAlgorithms", algs(keyTypes...)) }},
		{1, func() directive {
			x := d("SkeyAuthentication", yn()) // deprecated before 8.7, then KbdInteractiveAuthentication
			x.matchSince = "8.7"
			return x
		}},
		{2, func() directive {
			x := gl("IgnoreRhosts", pick(g, "yes", "no", "shosts-only"))
			x.matchSince = "8.4"
			return x
		}},
		// Keywords added from 8.2 on.
		{1, func() directive {
			return since("8.2", gl("SecurityKeyProvider", pick(g, "internal", "/usr/lib/libsk.so")))
		}},
		{2, func() directive {
			return since("8.2", d("PubkeyAuthOptions", pick(g, "none", "touch-required", "verify-required", "touch-required verify-required")))
		}},
		{1, func() directive {
			return since("8.5", gl("ModuliFile", pick(g, "/etc/ssh/moduli", "/etc/ssh/moduli.safe")))
		}},
		{2, func() directive { return since("9.1", d("RequiredRSASize", pick(g, "1024", "2048", "3072", "512"))) }},
		{2, func() directive {
			return since("9.8", gl("PerSourcePenalties", pick(g, "authfail:10", "crash:1m noauth:5", "no", "max:10m min:30s", "yes")))
		}},
		{1, func() directive {
			return since("9.8", gl("PerSourcePenaltyExemptList", pick(g, "10.0.0.0/8", "192.0.2.0/24,2001:db8::/32")))
		}},
		{2, func() directive { return since("9.9", d("RefuseConnection", yn())) }},
		{1, func() directive { return since("9.8", d("PAMServiceName", pick(g, "sshd", "other", "sshd-%u"))) }},
		{1, func() directive { return since("9.8", gl("SshdSessionPath", "/usr/lib/openssh/sshd-session")) }},
		{1, func() directive { return since("10.0", gl("SshdAuthPath", "/usr/lib/openssh/sshd-auth")) }},
		{1, func() directive { return gss(since("10.3", gl("GSSAPIDelegateCredentials", yn()))) }},
		// GSSAPI and Kerberos (a build without them calls them unsupported),
		// and Debian's keywords.
		{2, func() directive { return gss(d("GSSAPIAuthentication", yn())) }},
		{1, func() directive { return gss(gl("GSSAPICleanupCredentials", yn())) }},
		{1, func() directive { return gss(gl("GSSAPIStrictAcceptorCheck", yn())) }},
		{1, func() directive { return gss(d("KerberosAuthentication", yn())) }},
		{1, func() directive { return gss(gl("KerberosOrLocalPasswd", yn())) }},
		{1, func() directive { return deb(gss(gl("GSSAPIKeyExchange", yn()))) }},
		{1, func() directive { return deb(gss(gl("GSSAPIStoreCredentialsOnRekey", yn()))) }},
		{1, func() directive { return deb(gl("DebianBanner", yn())) }},
		// Keywords of 9.2 the plain trees do not write.
		{1, func() directive { return d("ExposeAuthInfo", yn()) }},
		{1, func() directive { return d("DisableForwarding", yn()) }},
		{1, func() directive { return d("PermitUserRC", yn()) }},
		{1, func() directive { return d("StreamLocalBindUnlink", yn()) }},
		{1, func() directive {
			return d("AllowStreamLocalForwarding", pick(g, "yes", "no", "local", "remote", "all"))
		}},
		{1, func() directive { return d("X11UseLocalhost", yn()) }},
		{1, func() directive { return d("X11DisplayOffset", pick(g, "10", "20")) }},
		{1, func() directive { return d("PermitEmptyPasswords", yn()) }},
		{1, func() directive { return d("HostbasedAuthentication", yn()) }},
		{1, func() directive { return gl("TCPKeepAlive", yn()) }},
		{1, func() directive { return gl("StrictModes", yn()) }},
		{1, func() directive { return gl("PrintLastLog", yn()) }},
		{1, func() directive { return d("TrustedUserCAKeys", pick(g, "/etc/ssh/user_ca.pub", "none")) }},
		{1, func() directive { return d("RevokedKeys", pick(g, "/etc/ssh/revoked_keys", "none")) }},
		{1, func() directive { return d("AuthorizedPrincipalsFile", pick(g, "/etc/ssh/principals/%u", "none")) }},
		{1, func() directive {
			return directive{kw: "AuthorizedKeysCommand", args: pick(g, "/usr/bin/sss_ssh_authorizedkeys %u", "none"), raw: true}
		}},
		{1, func() directive { return d("AuthorizedKeysCommandUser", pick(g, "nobody", "root")) }},
	}
}
