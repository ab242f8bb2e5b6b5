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
	// 8.2 and 8.3 joined SSHDIR with the wrong variable (arg, not arg2):
	// a relative pattern reads as SSHDIR/KEYWORD, the keyword as written,
	// then SSHDIR/the previous pattern (fixed in 8.4).
	prev := l.kw
	for {
		arg2, ok := av.next()
		if !ok || arg2 == "" && e.pre87 {
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
			if e.c.rel.Before("8.4") {
				pattern = e.c.opt.SSHDir + "/" + prev
			}
		}
		prev = pattern
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
	if e.incFlags&cfgNeverMatch != 0 && e.c.rel.AtLeast("8.4") {
		ci = nil // before 8.4 the criteria are checked with the spec all the same
	}
	e.detail = ""
	var value int
	if e.c.rel.AtLeast("9.9") {
		value = e.matchCfgArgv(l, av, ci)
	} else {
		value = e.matchCfgLine(l, line, &str, ci)
	}
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
	if e.c.rel.AtLeast("9.9") || e.c.rel.Before("8.7") || str < 0 || line[str] == 0 {
		av.consume()
	}
	return true
}

// badMatch records why a Match line is malformed (error() before the fatal
// "Bad Match condition") and returns -1.
func (e *evaluator) badMatch(l lineCtx, msg string) int {
	e.detail = strings.ToLower(msg[:1]) + msg[1:]
	e.add(Diag{Pos: l.at(0), Kind: KindDetail, Severity: SevError, Msg: e.detail, SSHD: msg})
	return -1
}

// matchCfgLine ports match_cfg_line up to 9.8, which reads the Match line
// with strdelim: 1 when every criterion matches, 0 when one does not, -1
// for a malformed line (after reporting why).
func (e *evaluator) matchCfgLine(l lineCtx, line []byte, cp *int, ci *ConnSpec) int {
	result, attributes := 1, 0
	// 8.0 and 8.1 read neither a comment nor an "all" with one after it.
	comments := e.c.rel.AtLeast("8.2")
	for {
		attribB, ok := strdelim(line, cp)
		if !ok || len(attribB) == 0 {
			break
		}
		attrib := string(attribB)
		if attrib[0] == '#' && comments {
			*cp = -1
			break
		}
		attributes++
		if !e.m.criteria(attributes, l.pos) {
			return 0
		}
		if strings.EqualFold(attrib, "all") {
			argB, ok := strdelim(line, cp)
			if attributes > 1 || (ok && len(argB) > 0 && (argB[0] != '#' || !comments)) {
				return e.badMatch(l, "'all' cannot be combined with other Match attributes")
			}
			if ok && len(argB) > 0 && argB[0] == '#' {
				*cp = -1
			}
			return 1
		}
		argB, ok := strdelim(line, cp)
		if !ok || len(argB) == 0 || argB[0] == '#' && comments {
			return e.badMatch(l, "Missing Match criteria for "+attrib)
		}
		var stop bool
		if result, stop = foldCriterion(result, e.matchCriterion(l, attrib, attrib, string(argB), ci)); stop {
			return result
		}
	}
	if attributes == 0 {
		return e.badMatch(l, "One or more attributes required for Match")
	}
	return result
}

// matchCfgArgv ports match_cfg_line from 9.9 on, which reads the Match
// line's words as split for every keyword (argv_split: quotes, a comment
// ends the line), knows "Invalid-User" (no argument), and from 9.9p2
// "criterion=pattern" in one word (9.9p1 refused it).
func (e *evaluator) matchCfgArgv(l lineCtx, av *argv, ci *ConnSpec) int {
	result, attributes := 1, 0
	for {
		oattrib, ok := av.next()
		if !ok {
			break
		}
		if oattrib != "" && oattrib[0] == '#' {
			av.consume()
			break
		}
		attributes++
		if !e.m.criteria(attributes, l.pos) {
			return 0
		}
		attrib := oattrib
		if strings.EqualFold(attrib, "all") {
			arg, ok := av.next()
			if attributes > 1 || ok && arg != "" && arg[0] != '#' {
				return e.badMatch(l, "'all' cannot be combined with other Match attributes")
			}
			av.consume()
			return 1
		}
		if strings.EqualFold(attrib, "invalid-user") {
			if ci == nil || !ci.InvalidUser {
				result = 0
			}
			continue
		}
		var arg string
		if name, val, ok := strings.Cut(attrib, "="); ok && matchCriterionKnown(name, e.c.rel) {
			attrib, arg = name, val
		} else {
			arg, _ = av.next()
		}
		if arg == "" || arg[0] == '#' {
			return e.badMatch(l, "Missing Match criteria for "+attrib)
		}
		var stop bool
		if result, stop = foldCriterion(result, e.matchCriterion(l, attrib, oattrib, arg, ci)); stop {
			return result
		}
	}
	if attributes == 0 {
		return e.badMatch(l, "One or more attributes required for Match")
	}
	return result
}

// matchCriterionKnown reports whether name is a criterion release r reads
// in the form "name=pattern" (9.9p2's list: all but Invalid-User, with
// Version from 10.0). 9.9p1 (RHEL 10's) reads none so (fixed in 9.9p2 by
// commit 66878e12a; read in the source, not run).
func matchCriterionKnown(name string, r *Release) bool {
	if r.major == 9 && r.minor == 9 && r.patch < 2 {
		return false
	}
	switch strings.ToLower(name) {
	case "user", "group", "host", "address", "localaddress", "localport", "rdomain":
		return true
	case "version":
		return r.AtLeast("10.0")
	}
	return false
}

// sshRelease is SSH_RELEASE, the version Match Version matches: upstream
// "OpenSSH_10.2p1"; Debian's builds add their package revision, the one
// of the checked build (a later security update changes it).
func sshRelease(r *Release) string {
	switch r.checked {
	case "10.0-debian":
		return "OpenSSH_10.0p2 Debian-7+deb13u4"
	case "10.6-debian":
		return "OpenSSH_10.6p1 Debian-1"
	}
	return fmt.Sprintf("OpenSSH_%sp%d", r.version(), r.patch)
}

// matchStop is matchCriterion's result when sshd stops at the criterion
// (a fatal diagnostic is recorded).
const matchStop = -3

// matchCriterion evaluates one criterion attrib with its pattern list arg
// (oattrib: the word as written, for messages): 1 when it matches, 0 when
// not, -1 for a malformed line, matchStop when sshd stops there.
func (e *evaluator) matchCriterion(l lineCtx, attrib, oattrib, arg string, ci *ConnSpec) int {
	// Before 8.2 a connection spec lacking the field is fatal (8.2 added
	// ci->test), and plain sshd -T evaluates Match with an empty spec.
	missing := func(criterion, field string) int {
		e.fatalf(l, 0, KindBadMatch, fmt.Sprintf("Match %s needs %s in the connection spec", criterion, field),
			fmt.Sprintf("'Match %s' in configuration but '%s' not in connection test specification.", criterion, field))
		return matchStop
	}
	old := e.c.rel.Before("8.2") // 8.0 and 8.1
	switch strings.ToLower(attrib) {
	case "user":
		if ci == nil || !ci.given(ci.User, specUser) {
			if ci != nil && old {
				return missing("User", "user")
			}
			return 0
		}
		if matchPatternList(ci.User, arg, false) != 1 {
			return 0
		}
	case "group":
		if ci == nil || ci.User == "" {
			if ci != nil && old {
				return missing("Group", "user")
			}
			return 0
		}
		if !e.matchGroup(arg, ci.User) {
			return 0
		}
	case "host":
		if ci == nil || !ci.given(ci.Host, specHost) {
			if ci != nil && old {
				return missing("Host", "host")
			}
			return 0
		}
		if matchHostname(ci.Host, arg) != 1 {
			return 0
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
			if ci != nil && old {
				if strings.EqualFold(attrib, "localaddress") {
					return missing("LocalAddress", "laddr")
				}
				return missing("Address", "addr")
			}
			// 8.4 on check the list's syntax here (8.2p1 has no check).
			if e.c.rel.AtLeast("8.4") && e.addrRules().matchList("", true, arg) != 0 {
				what := "address"
				if strings.EqualFold(attrib, "localaddress") {
					what = "localaddress"
				}
				e.fatalf(l, 0, KindBadMatch, fmt.Sprintf("invalid Match %s argument '%s'", what, arg),
					fmt.Sprintf("Invalid Match %s argument '%s' at line %d", what, arg, l.pos.Line))
				return matchStop
			}
			return 0
		}
		switch e.addrRules().matchList(addr, false, arg) {
		case 1:
		case -2:
			return -1
		default:
			return 0
		}
	case "localport":
		port := a2port(arg, e.c.opt.Services)
		if port == -1 {
			return e.badMatch(l, fmt.Sprintf("Invalid LocalPort '%s' on Match line", arg))
		}
		if ci == nil {
			return 0
		}
		if ci.LPort == 0 {
			return missing("LocalPort", "lport")
		}
		if port != ci.LPort {
			return 0
		}
	case "rdomain":
		if ci == nil || !ci.given(ci.RDomain, specRDomain) {
			// 8.2 on: fatal only outside test mode, which -C always is.
			return 0
		}
		if matchPatternList(ci.RDomain, arg, false) != 1 {
			return 0
		}
	case "version":
		if e.c.rel.Before("10.0") {
			return e.badMatch(l, "Unsupported Match attribute "+oattrib)
		}
		if matchPatternList(sshRelease(e.c.rel), arg, false) != 1 {
			return 0
		}
	default:
		return e.badMatch(l, "Unsupported Match attribute "+oattrib)
	}
	return 1
}

// foldCriterion folds the result of one criterion (matchCriterion) into
// the Match line's: it returns the line's result, and whether to stop
// reading the line (an error, or matchStop).
func foldCriterion(result, r int) (int, bool) {
	switch r {
	case 0:
		return 0, false
	case 1:
		return result, false
	case matchStop:
		return 0, true
	}
	return r, true
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
