// Package enforcer holds sshwarden's policy: what it requires of sshd_config,
// and when the agent warns and closes sessions.
package enforcer

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
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

func agentKeywords() []agentKeyword {
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
			if len(args) != 1 || !strings.HasPrefix(args[0], "/") {
				return fmt.Errorf("MetricsFile takes one absolute path")
			}
			r.MetricsFile = &String{Value: args[0], Pos: pos}
			return nil
		}, duplicate: func(r *Rules) bool { return r.MetricsFile != nil }},
	}
}

// Load reads a policy: a file, or "builtin:NAME" for a built-in profile.
func Load(name string) (*Policy, error) {
	if n, ok := strings.CutPrefix(name, "builtin:"); ok {
		b, err := fs.ReadFile(profiles, "profiles/"+n+".conf")
		if err != nil {
			return nil, fmt.Errorf("no built-in policy %q (have %s)", n, strings.Join(Builtins(), ", "))
		}
		return Parse(name, b)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(name, b)
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
// file:line:col, in one error.
func Parse(name string, src []byte) (*Policy, error) {
	p := &Policy{Name: name}
	var errs sshdconf.ErrorList
	fail := func(pos sshdconf.Pos, format string, args ...any) {
		errs = append(errs, sshdconf.Diag{Pos: pos, Msg: fmt.Sprintf(format, args...), Severity: sshdconf.SevError})
	}
	agent := agentKeywords()
	seenReq := map[string]sshdconf.Pos{}
	cur := &p.Global
	var block *Block
	for _, l := range sshdconf.Parse(name, src).Lines {
		if !l.IsDirective() {
			continue
		}
		pos := sshdconf.Pos{File: name, Line: int(l.Num), Col: l.Keyword().Off + 1}
		kw := l.KeywordName()
		var args []string
		for _, a := range l.Args {
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
				rest := strings.TrimSpace(strings.TrimPrefix(l.Text[l.Keyword().Off:], l.Keyword().Raw))
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
			if sshdconf.MatchAddressList("", pat) != 0 {
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
