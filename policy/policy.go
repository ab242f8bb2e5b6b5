// Package policy is sshwarden's policy language: a file in sshd_config
// syntax ([Parse], [Load], the built-in profiles of [Builtins]) whose
// sshd_config keywords are requirements on the effective sshd
// configuration ([Policy].Requirements, checked by sshdconf/lint) and whose
// agent keywords (IdleTimeout, WarnBefore, MaxSessionTime, Exempt, ...)
// say when the agent warns and closes sessions, per session through Match
// blocks with sshd's criteria ([Policy.For]).
package policy

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// DefaultPath is where the policy lives on a host.
const DefaultPath = "/etc/sshwarden/policy.conf"

//go:embed profiles/*.conf
var profiles embed.FS

// Policy is a parsed policy file: sshd_config syntax, agent keywords, and
// Match blocks with sshd's criteria.
type Policy struct {
	Name   string // the file, or builtin:NAME
	Global Rules
	Blocks []Block
	// Requirements are the sshd_config keywords of the global section.
	Requirements []lint.Requirement
}

// Block is a Match block of the policy.
type Block struct {
	Pos      sshdconf.Pos
	Criteria []Criterion
	Rules    Rules
}

// Criterion is one "Match" condition: User, Group, Address, LocalAddress,
// LocalPort or All, with sshd's pattern syntax.
type Criterion struct {
	Name    string // lower case
	Pattern string
}

// Rules are the agent keywords of one section. A nil field is not set there.
type Rules struct {
	IdleTimeout    *Duration
	WarnBefore     *Duration
	MaxSessionTime *Duration
	Exempt         *Bool
	WarnMessage    *String
	CloseNoTTY     *Bool // close idle sessions without a tty (exec, sftp)
	ScanInterval   *Duration
	MetricsFile    *String
	EnforceConfig  *Bool
}

// Duration, Bool and String are values with the line that set them.
type (
	Duration struct {
		Value time.Duration
		Pos   sshdconf.Pos
	}
	Bool struct {
		Value bool
		Pos   sshdconf.Pos
	}
	String struct {
		Value string
		Pos   sshdconf.Pos
	}
)

// agentKeyword describes one agent keyword: where it may stand and how its
// value is set.
type agentKeyword struct {
	name      string
	global    bool // only before the first Match
	set       func(r *Rules, args []string, rest string, pos sshdconf.Pos) error
	duplicate func(r *Rules) bool
}

func agentKeywords(metricsDirs []string) []agentKeyword {
	dur := func(name string, global bool, field func(*Rules) **Duration) agentKeyword {
		return agentKeyword{name: name, global: global,
			set: func(r *Rules, args []string, _ string, pos sshdconf.Pos) error {
				if len(args) != 1 {
					return fmt.Errorf("%s takes one time, like 15m or 900", name)
				}
				s, ok := sshdconf.ParseTime(args[0])
				if !ok {
					return fmt.Errorf("%s: invalid time %q (use 900, 15m, 1h30m)", name, args[0])
				}
				*field(r) = &Duration{Value: time.Duration(s) * time.Second, Pos: pos}
				return nil
			},
			duplicate: func(r *Rules) bool { return *field(r) != nil }}
	}
	flag := func(name string, global bool, field func(*Rules) **Bool) agentKeyword {
		return agentKeyword{name: name, global: global,
			set: func(r *Rules, args []string, _ string, pos sshdconf.Pos) error {
				if len(args) != 1 || (args[0] != "yes" && args[0] != "no") {
					return fmt.Errorf("%s takes yes or no", name)
				}
				*field(r) = &Bool{Value: args[0] == "yes", Pos: pos}
				return nil
			},
			duplicate: func(r *Rules) bool { return *field(r) != nil }}
	}
	return []agentKeyword{
		dur("IdleTimeout", false, func(r *Rules) **Duration { return &r.IdleTimeout }),
		dur("WarnBefore", false, func(r *Rules) **Duration { return &r.WarnBefore }),
		dur("MaxSessionTime", false, func(r *Rules) **Duration { return &r.MaxSessionTime }),
		dur("ScanInterval", true, func(r *Rules) **Duration { return &r.ScanInterval }),
		flag("Exempt", false, func(r *Rules) **Bool { return &r.Exempt }),
		flag("CloseNoTTY", false, func(r *Rules) **Bool { return &r.CloseNoTTY }),
		flag("EnforceConfig", true, func(r *Rules) **Bool { return &r.EnforceConfig }),
		{name: "WarnMessage", set: func(r *Rules, _ []string, rest string, pos sshdconf.Pos) error {
			r.WarnMessage = &String{Value: rest, Pos: pos}
			return nil
		}, duplicate: func(r *Rules) bool { return r.WarnMessage != nil }},
		{name: "MetricsFile", global: true, set: func(r *Rules, args []string, _ string, pos sshdconf.Pos) error {
			if len(args) != 1 {
				return fmt.Errorf("MetricsFile takes one path, a NAME.prom file in %s", strings.Join(metricsDirs, ", "))
			}
			if err := checkMetricsFile(args[0], metricsDirs); err != nil {
				return err
			}
			r.MetricsFile = &String{Value: args[0], Pos: pos}
			return nil
		}, duplicate: func(r *Rules) bool { return r.MetricsFile != nil }},
	}
}

// MetricsDirs returns the folders where a MetricsFile may be: the textfile
// folder of Debian's prometheus-node-exporter, and sshwarden's own folders
// of state and of runtime.
func MetricsDirs() []string {
	return []string{"/var/lib/prometheus/node-exporter", "/var/lib/sshwarden", "/run/sshwarden"}
}

// checkMetricsFile checks that path names a metrics file directly in one
// of dirs: a clean absolute path (no "..", ".", "//" or trailing "/"),
// whose name is NAME.prom (node_exporter reads *.prom) of letters, digits,
// '.', '_' and '-', not starting with a '.'. Symbolic links on the way are
// refused when the agent writes the file.
func checkMetricsFile(path string, dirs []string) error {
	where := strings.Join(dirs, ", ")
	if !strings.HasPrefix(path, "/") || filepath.Clean(path) != path {
		return fmt.Errorf("MetricsFile %q: not a clean absolute path; use a NAME.prom file in %s", path, where)
	}
	dir, name := filepath.Split(path)
	if !slices.Contains(dirs, strings.TrimSuffix(dir, "/")) {
		return fmt.Errorf("MetricsFile %q: not in a metrics folder; use a NAME.prom file in %s", path, where)
	}
	stem, ok := strings.CutSuffix(name, ".prom")
	if !ok || stem == "" || name[0] == '.' || len(name) > 255 || strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}) >= 0 {
		return fmt.Errorf("MetricsFile %q: the name must be NAME.prom, of letters, digits, '.', '_' and '-', not starting with '.'", path)
	}
	return nil
}

// Loader reads policies. The zero Loader is what [Load] and [Parse] use.
type Loader struct {
	// MetricsDirs, when not empty, replaces [MetricsDirs]: the folders
	// where a MetricsFile may be. It exists for tests, which write the
	// metrics to a temporary folder; no policy line and no flag sets it.
	MetricsDirs []string
}

// maxPolicyErrors is how many errors [Parse] reports one by one; the rest
// are counted in one more.
const maxPolicyErrors = 100

// Load reads a policy: a file, or "builtin:NAME" for a built-in profile.
func Load(name string) (*Policy, error) { return Loader{}.Load(name) }

// Load reads a policy: a file, or "builtin:NAME" for a built-in profile.
func (ld Loader) Load(name string) (*Policy, error) {
	if n, ok := strings.CutPrefix(name, "builtin:"); ok {
		b, err := fs.ReadFile(profiles, "profiles/"+n+".conf")
		if err != nil {
			return nil, fmt.Errorf("no built-in policy %q (have %s)", n, strings.Join(Builtins(), ", "))
		}
		return ld.Parse(name, b)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ld.Parse(name, b)
}

// Builtins lists the built-in profiles as builtin:NAME.
func Builtins() []string {
	ents, _ := fs.ReadDir(profiles, "profiles")
	var out []string
	for _, e := range ents {
		out = append(out, "builtin:"+strings.TrimSuffix(e.Name(), ".conf"))
	}
	return out
}

// Parse parses a policy file. Every problem is reported, each with its
// file:line:col, in one error: an [sshdconf.ErrorList] of the first 100,
// and when there are more, one more that counts them, at the line of the
// first one left out.
func Parse(name string, src []byte) (*Policy, error) { return Loader{}.Parse(name, src) }

// Parse parses a policy file, as [Parse] does.
func (ld Loader) Parse(name string, src []byte) (*Policy, error) {
	p := &Policy{Name: name}
	var errs sshdconf.ErrorList
	more := 0
	var morePos sshdconf.Pos
	fail := func(pos sshdconf.Pos, format string, args ...any) {
		if len(errs) == maxPolicyErrors {
			if more == 0 {
				morePos = pos
			}
			more++
			return
		}
		errs = append(errs, sshdconf.Diag{Pos: pos, Msg: fmt.Sprintf(format, args...), Severity: sshdconf.SevError})
	}
	dirs := ld.MetricsDirs
	if len(dirs) == 0 {
		dirs = MetricsDirs()
	}
	agent := agentKeywords(dirs)
	seenReq := map[string]sshdconf.Pos{}
	cur := &p.Global
	var block *Block
	for _, l := range sshdconf.Parse(name, src).Lines() {
		// sshd reads each line as a C string: a NUL ends it there, and
		// the line's newline, after the NUL, is lost, so that the next
		// line is joined to it (measured on 9.2; servconf.c,
		// load_server_config). Whatever the line, sshwarden refuses it.
		if i := strings.IndexByte(l.Text(), 0); i >= 0 {
			fail(sshdconf.Pos{File: name, Line: l.Num(), Col: i + 1}, "a NUL byte in the line (sshd would end the line there and join the next one to it)")
			continue
		}
		if !l.IsDirective() {
			continue
		}
		pos := sshdconf.Pos{File: name, Line: l.Num(), Col: l.Keyword().Off + 1}
		kw := l.KeywordName()
		var args []string
		for _, a := range l.Args() {
			args = append(args, a.Value())
		}
		if strings.EqualFold(kw, "Match") {
			b, err := parseMatch(args, pos)
			if err != nil {
				fail(pos, "%v", err)
			}
			p.Blocks = append(p.Blocks, b)
			block = &p.Blocks[len(p.Blocks)-1]
			cur = &block.Rules
			continue
		}
		if ak := findAgent(agent, kw); ak != nil {
			switch {
			case ak.global && block != nil:
				fail(pos, "%s applies to the whole agent: put it before the first Match", ak.name)
			case ak.duplicate(cur):
				fail(pos, "%s is set twice in this section; sshwarden refuses the ambiguity", ak.name)
			default:
				rest := strings.TrimSpace(strings.TrimPrefix(l.Text()[l.Keyword().Off:], l.Keyword().Raw))
				rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimRight(rest, "\r"), "="))
				if err := ak.set(cur, args, rest, pos); err != nil {
					fail(pos, "%v", err)
				}
			}
			continue
		}
		k := sshdconf.Lookup(kw)
		switch {
		case k == nil:
			fail(pos, "unknown keyword %q: not an sshwarden keyword (%s) nor an sshd_config keyword", kw, agentNames(agent))
			continue
		case block != nil:
			fail(pos, "%s is a requirement on sshd_config, which applies to every connection: put it before the first Match", k.Name)
			continue
		case k.Printed() == "" || k.Combine == sshdconf.Accumulate:
			fail(pos, "%s cannot be a policy requirement (sshwarden compares single effective values)", k.Name)
			continue
		}
		if prev, dup := seenReq[k.Name]; dup {
			fail(pos, "%s is already required at line %d", k.Name, prev.Line)
			continue
		}
		seenReq[k.Name] = pos
		v, err := sshdconf.Normalize(k.Name, args)
		if err != nil {
			fail(pos, "%s: sshd would refuse this value: %v", k.Name, err)
			continue
		}
		r := lint.Requirement{Keyword: k.Name, Args: args, Pos: pos}
		if k.Type == sshdconf.TypeTime || k.Type == sshdconf.TypeInt {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				fail(pos, "%s: a policy bound must be above 0 (0 disables it in sshd)", k.Name)
				continue
			}
			r.Max = n
		} else {
			r.Value = v
		}
		p.Requirements = append(p.Requirements, r)
	}
	if more > 0 {
		errs = append(errs, sshdconf.Diag{Pos: morePos, Msg: fmt.Sprintf("... and %d more %s, from this line on", more, map[bool]string{true: "error", false: "errors"}[more == 1]), Severity: sshdconf.SevError})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func findAgent(ks []agentKeyword, name string) *agentKeyword {
	for i := range ks {
		if strings.EqualFold(ks[i].name, name) {
			return &ks[i]
		}
	}
	return nil
}

func agentNames(ks []agentKeyword) string {
	var n []string
	for _, k := range ks {
		n = append(n, k.name)
	}
	return strings.Join(n, ", ")
}

// parseMatch reads the criteria of a policy Match line.
func parseMatch(args []string, pos sshdconf.Pos) (Block, error) {
	b := Block{Pos: pos}
	// "User=alice" is one argument; sshd splits it at '='.
	var words []string
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && k != "" {
			words = append(words, k, v)
			continue
		}
		words = append(words, a)
	}
	if len(words) == 0 {
		return b, fmt.Errorf("missing criteria after Match: User, Group, Address, LocalAddress, LocalPort or All")
	}
	for i := 0; i < len(words); i++ {
		c := strings.ToLower(words[i])
		if c == "all" {
			if len(words) != 1 {
				return b, fmt.Errorf("'All' cannot be combined with other Match criteria")
			}
			b.Criteria = append(b.Criteria, Criterion{Name: "all"})
			continue
		}
		if i+1 >= len(words) {
			return b, fmt.Errorf("missing pattern after Match %s", words[i])
		}
		pat := words[i+1]
		i++
		switch c {
		case "user", "group":
		case "address", "localaddress":
			if sshdconf.CheckAddressList(pat) != nil {
				return b, fmt.Errorf("invalid address list for Match %s: %s (addresses, CIDR blocks, wildcards, !negation)", words[i-1], pat)
			}
		case "localport":
			if n, err := strconv.Atoi(pat); err != nil || n <= 0 || n > 65535 {
				return b, fmt.Errorf("invalid port for Match LocalPort: %s", pat)
			}
		case "host":
			return b, fmt.Errorf("unsupported criterion Match Host: it needs a DNS lookup of each session's peer, which sshwarden does not make; use Match Address with the host's addresses")
		default:
			return b, fmt.Errorf("unsupported Match criterion %q (User, Group, Address, LocalAddress, LocalPort, All)", words[i-1])
		}
		b.Criteria = append(b.Criteria, Criterion{Name: c, Pattern: pat})
	}
	return b, nil
}
