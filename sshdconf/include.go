package sshdconf

import (
	"fmt"
	"strings"
)

// include ports the sInclude case: each argument is a glob, relative ones
// under SSHDir; each file found is read in place, with its Match state
// restored afterwards.
func (d *dirLine) include(o *options) bool {
	e, l, av := d.e, d.l, &d.av
	n := 0
	for {
		arg2, ok := av.next()
		if !ok {
			break
		}
		if arg2 == "" {
			e.errorLine(l, av.i-1, KindBadValue, fmt.Sprintf("keyword %s empty argument", l.kw))
			return false
		}
		n++
		pattern := arg2
		if !strings.HasPrefix(arg2, "/") && !strings.HasPrefix(arg2, "~") {
			pattern = e.c.opt.SSHDir + "/" + arg2
		}
		oactive := e.active
		flags := 0
		switch {
		case e.incFlags&cfgMatchOnly != 0:
			flags = cfgMatchOnly
		case !oactive:
			flags = cfgNeverMatch
		}
		names, ok := e.c.glob(pattern)
		if !ok {
			e.m.glob(pattern, l.at(av.i-1))
			return true
		}
		for _, name := range names {
			e.parseDepth(o, name, flags, d.depth+1, l.at(av.i-1))
			e.active = oactive
			if e.stopped && e.ci != nil || e.m.over != nil {
				return true
			}
		}
	}
	if n == 0 {
		e.fatalLine(l, -1, KindSyntax, fmt.Sprintf("%s missing filename argument", l.kw))
	}
	return true
}

// match ports the sMatch case and match_cfg_line.
func (d *dirLine) match(line []byte) bool {
	e, l, av, str := d.e, d.l, &d.av, d.str
	ci := e.ci
	if e.incFlags&cfgNeverMatch != 0 {
		ci = nil
	}
	e.detail = ""
	value := e.matchCfgLine(l, line, &str, ci)
	if e.m.over != nil {
		av.consume()
		return true
	}
	if value < 0 {
		msg := "bad Match condition"
		if e.detail != "" {
			msg += ": " + e.detail
		}
		e.fatalf(l, 0, KindBadMatch, msg,
			fmt.Sprintf("%s line %d: Bad Match condition", l.file, l.pos.Line))
		av.consume() // sshd stops here: no "extra arguments" after it
		return true
	}
	// value is 1 or 0 here.
	e.active = value == 1 && e.incFlags&cfgNeverMatch == 0
	e.incFlags &^= cfgMatchOnly
	if str < 0 || line[str] == 0 {
		av.consume()
	}
	return true
}

// matchCfgLine ports match_cfg_line: 1 when every criterion matches, 0 when
// one does not, -1 for a malformed line (after reporting why).
func (e *evaluator) matchCfgLine(l lineCtx, line []byte, cp *int, ci *ConnSpec) int {
	result, attributes := 1, 0
	bad := func(msg string) int {
		e.detail = strings.ToLower(msg[:1]) + msg[1:]
		e.add(Diag{Pos: l.at(0), Kind: KindDetail, Severity: SevError, Msg: e.detail, SSHD: msg})
		return -1
	}
	for {
		attribB, ok := strdelim(line, cp)
		if !ok || len(attribB) == 0 {
			break
		}
		attrib := string(attribB)
		if attrib[0] == '#' {
			*cp = -1
			break
		}
		attributes++
		if !e.m.criteria(attributes, l.pos) {
			return 0
		}
		if strings.EqualFold(attrib, "all") {
			argB, ok := strdelim(line, cp)
			if attributes > 1 || (ok && len(argB) > 0 && argB[0] != '#') {
				return bad("'all' cannot be combined with other Match attributes")
			}
			if ok && len(argB) > 0 && argB[0] == '#' {
				*cp = -1
			}
			return 1
		}
		argB, ok := strdelim(line, cp)
		if !ok || len(argB) == 0 || argB[0] == '#' {
			return bad("Missing Match criteria for " + attrib)
		}
		arg := string(argB)
		switch strings.ToLower(attrib) {
		case "user":
			if ci == nil || !ci.given(ci.User, specUser) {
				result = 0
				continue
			}
			if matchPatternList(ci.User, arg, false) != 1 {
				result = 0
			}
		case "group":
			if ci == nil || ci.User == "" {
				result = 0
				continue
			}
			if !e.matchGroup(arg, ci.User) {
				result = 0
			}
		case "host":
			if ci == nil || !ci.given(ci.Host, specHost) {
				result = 0
				continue
			}
			if matchHostname(ci.Host, arg) != 1 {
				result = 0
			}
		case "address", "localaddress":
			addr := ""
			if ci != nil {
				addr = ci.Addr
				if strings.EqualFold(attrib, "localaddress") {
					addr = ci.LAddr
				}
			}
			if ci == nil || addr == "" {
				// Checked without an address from 8.4 (8.2p1 accepts
				// "Match Address 10.0.0.1/8" until a spec has addr=).
				if e.c.rel.AtLeast("8.4") && e.addrRules().matchList("", true, arg) != 0 {
					what := "address"
					if strings.EqualFold(attrib, "localaddress") {
						what = "localaddress"
					}
					e.fatalf(l, 0, KindBadMatch, fmt.Sprintf("invalid Match %s argument '%s'", what, arg),
						fmt.Sprintf("Invalid Match %s argument '%s' at line %d", what, arg, l.pos.Line))
					return 0
				}
				result = 0
				continue
			}
			switch e.addrRules().matchList(addr, false, arg) {
			case 1:
			case -2:
				return -1
			default:
				result = 0
			}
		case "localport":
			port := a2port(arg, e.c.opt.Services)
			if port == -1 {
				return bad(fmt.Sprintf("Invalid LocalPort '%s' on Match line", arg))
			}
			if ci == nil {
				result = 0
				continue
			}
			if ci.LPort == 0 {
				e.fatalf(l, 0, KindBadMatch, "Match LocalPort needs lport in the connection spec",
					"'Match LocalPort' in configuration but 'lport' not in connection test specification.")
				return 0
			}
			if port != ci.LPort {
				result = 0
			}
		case "rdomain":
			if ci == nil || !ci.given(ci.RDomain, specRDomain) {
				result = 0
				continue
			}
			if matchPatternList(ci.RDomain, arg, false) != 1 {
				result = 0
			}
		default:
			return bad("Unsupported Match attribute " + attrib)
		}
	}
	if attributes == 0 {
		return bad("One or more attributes required for Match")
	}
	return result
}

// matchGroup ports match_cfg_line_group and ga_match_pattern_list.
func (e *evaluator) matchGroup(patterns, user string) bool {
	if e.c.opt.Users == nil {
		return false
	}
	groups, ok := e.c.opt.Users.Groups(user)
	if !ok || len(groups) == 0 {
		return false
	}
	found := false
	for _, g := range groups {
		switch matchPatternList(g, patterns, false) {
		case -1:
			return false
		case 1:
			found = true
		}
	}
	return found
}
