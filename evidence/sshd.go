package evidence

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// Kind is a kind of SSH session: the mechanisms that close idle sessions
// each see some kinds and not others.
type Kind string

// The kinds of session the verdict is given for.
const (
	KindPTY     Kind = "pty"     // an interactive login with a terminal
	KindNoTTY   Kind = "notty"   // a command or sftp, without a terminal
	KindForward Kind = "forward" // ssh -N: forwarding only, no session channel
	KindRoot    Kind = "root"    // a root login with a terminal
)

// Kinds lists the kinds in the order the verdict gives them.
var Kinds = []Kind{KindPTY, KindNoTTY, KindForward, KindRoot}

// Mechanism is one thing on the host that may close an idle SSH session,
// as read from its own source.
type Mechanism struct {
	Name string // "sshd ChannelTimeout", "logind StopIdleSessionSec", ...
	// Configured says a line sets it; Effective that, as set, it closes
	// idle sessions of some kind: Limits holds, per kind it closes, after
	// how long idle.
	Configured, Effective bool
	Limits                map[Kind]time.Duration
	Source                Pos // the line that set it; the zero Pos for a default
	Notes                 []string
}

// Covers returns the kinds m closes, in the order of Kinds.
func (m *Mechanism) Covers() []Kind {
	var out []Kind
	for _, k := range Kinds {
		if _, ok := m.Limits[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

func (m *Mechanism) closes(k Kind, d time.Duration) {
	if m.Limits == nil {
		m.Limits = map[Kind]time.Duration{}
	}
	m.Limits[k] = d
	m.Effective = true
}

func (m *Mechanism) note(format string, args ...any) {
	m.Notes = append(m.Notes, fmt.Sprintf(format, args...))
}

func posOf(p sshdconf.Pos) Pos {
	if p.File == "" {
		return Pos{}
	}
	return Pos{File: p.File, Line: p.Line}
}

// channelTypes are the channel types sshd gives sessions, as ChannelTimeout
// matches them (measured on 9.2: "session" alone matches none).
var channelTypes = map[Kind][]string{
	KindPTY:   {"session:shell"},
	KindNoTTY: {"session:command", "session:subsystem:sftp"},
	KindRoot:  {"session:shell"},
}

// SSHD reads what sshd itself does to idle sessions from its configuration
// as cfg's release reads it: ChannelTimeout (global, and in Match blocks,
// which releases before 10.5 print in sshd -T but do not apply to the
// running session), UnusedConnectionTimeout, and ClientAlive* (dead peers
// only). The values are the global ones (sshd -T without -C, Match all
// included); Match blocks that change them come as notes.
func SSHD(cfg *sshdconf.Config) []Mechanism {
	g := cfg.Global()
	rel := cfg.Release()
	return []Mechanism{channelTimeout(cfg, g, rel), unusedTimeout(cfg, g), clientAlive(g)}
}

func channelTimeout(cfg *sshdconf.Config, g *sshdconf.Effective, rel *sshdconf.Release) Mechanism {
	m := Mechanism{Name: "sshd ChannelTimeout"}
	if rel.Before("9.2") {
		m.note("%s has no ChannelTimeout (added in 9.2)", rel)
		return m
	}
	for _, s := range g.Get("channeltimeout") {
		if s.Value == "none" || s.Value == "" {
			continue
		}
		m.Configured, m.Source = true, posOf(s.Pos)
		for _, k := range Kinds {
			if d, ok := channelLimit(s.Value, k); ok {
				m.closes(k, d)
			}
		}
		if !m.Effective {
			m.note("%q names no session channel type (sessions are session:shell, session:command, session:subsystem:sftp)", s.Value)
		}
	}
	if m.Effective {
		m.note("idle means no traffic either way: output keeps a channel open")
	}
	for _, d := range cfg.Directives() {
		if d.Match == nil || d.MatchAll() || d.Keyword == nil || d.Keyword.Name != "ChannelTimeout" {
			continue
		}
		m.Configured = true
		at := posOf(d.Pos)
		if rel.Before("10.5") {
			m.note("%s: ChannelTimeout in a Match block (%s) is printed by sshd -T but not applied to the session by %s (fixed in 10.5)%s", at, strings.Join(d.Match.Args, " "), rel, lineText(d))
		} else {
			m.note("%s: ChannelTimeout %s applies only to connections matching Match %s", at, strings.Join(d.Args, " "), strings.Join(d.Match.Args, " "))
		}
	}
	return m
}

// lineText is the directive's line as written (comments included), for
// an auditor to find it: ": `...`", or "" without a syntax line.
func lineText(d *sshdconf.Directive) string {
	if d.Line == nil {
		return ""
	}
	return ": `" + strings.TrimSpace(d.Line.Text()) + "`"
}

// channelLimit returns the timeout a ChannelTimeout value gives the
// channels of kind k: the first pair whose type pattern matches each of
// the kind's channel types (the longest of them); ok is false when one of
// them has none.
func channelLimit(value string, k Kind) (time.Duration, bool) {
	types := channelTypes[k]
	if len(types) == 0 {
		return 0, false
	}
	var longest time.Duration
	for _, typ := range types {
		found := false
		for _, pair := range strings.Fields(value) {
			pat, iv, ok := strings.Cut(pair, "=")
			if !ok {
				continue
			}
			if sshdconf.MatchPatternList(typ, pat) != sshdconf.Matched {
				continue
			}
			secs, ok := sshdconf.ParseTime(iv)
			if !ok || secs == 0 {
				return 0, false // 0: no timeout for this type
			}
			found = true
			longest = max(longest, time.Duration(secs)*time.Second)
			break
		}
		if !found {
			return 0, false
		}
	}
	return longest, true
}

func unusedTimeout(cfg *sshdconf.Config, g *sshdconf.Effective) Mechanism {
	m := Mechanism{Name: "sshd UnusedConnectionTimeout"}
	if cfg.Release().Before("9.2") {
		m.note("%s has no UnusedConnectionTimeout (added in 9.2)", cfg.Release())
		return m
	}
	for _, s := range g.Get("unusedconnectiontimeout") {
		if s.Value == "none" || s.Value == "0" {
			if s.Pos.File != "" {
				m.Configured, m.Source = true, posOf(s.Pos)
			}
			continue
		}
		secs, err := strconv.Atoi(s.Value)
		if err != nil || secs <= 0 {
			continue
		}
		m.Configured, m.Source = true, posOf(s.Pos)
		m.closes(KindForward, time.Duration(secs)*time.Second)
		m.note("closes a connection once it has had no open channel for this long: ssh -N, and a connection whose channels ChannelTimeout closed")
	}
	// Unlike ChannelTimeout, a Match block's UnusedConnectionTimeout
	// reaches the session (measured on 9.2 and 10.0,
	// internal/sshdtest/claims_test.go).
	for _, d := range cfg.Directives() {
		if d.Match == nil || d.MatchAll() || d.Keyword == nil || d.Keyword.Name != "UnusedConnectionTimeout" {
			continue
		}
		m.Configured = true
		m.note("%s: UnusedConnectionTimeout %s applies to the connections matching Match %s", posOf(d.Pos), strings.Join(d.Args, " "), strings.Join(d.Match.Args, " "))
	}
	return m
}

func clientAlive(g *sshdconf.Effective) Mechanism {
	m := Mechanism{Name: "sshd ClientAliveInterval"}
	iv, cm := g.Get("clientaliveinterval"), g.Get("clientalivecountmax")
	if len(iv) > 0 && iv[0].Value != "0" {
		m.Configured, m.Source = true, posOf(iv[0].Pos)
		count := ""
		if len(cm) > 0 {
			count = cm[0].Value
		}
		m.note("ClientAliveInterval %s with ClientAliveCountMax %s drops dead peers only: a client that answers the probes is never disconnected however long it is idle", iv[0].Value, count)
	}
	return m
}
