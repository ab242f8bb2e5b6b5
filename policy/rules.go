package policy

import (
	"strconv"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

// Effective is what the policy asks of one session: each agent keyword's
// value with the line that set it. A keyword that no applying section sets
// holds its built-in default with the zero Pos (printed "default"):
//
//   - IdleTimeout 0: no idle limit.
//   - WarnBefore 0: no warning.
//   - MaxSessionTime 0: no limit on a session's age.
//   - Exempt no.
//   - CloseNoTTY no: sessions without a tty are not closed for idleness.
//   - WarnMessage "": the agent's built-in message.
//
// The agent-wide keywords (ScanInterval, MetricsFile, EnforceConfig) are
// not per session: read them from [Policy.Global].
type Effective struct {
	IdleTimeout    Duration
	WarnBefore     Duration
	MaxSessionTime Duration
	Exempt         Bool
	CloseNoTTY     Bool
	WarnMessage    String
}

// For evaluates the policy for session s as sshd evaluates its own Match
// blocks: for each keyword, the first Match block that applies to s and sets
// it wins, then the global section, then the built-in default. users gives
// the user's groups for Match Group; with a nil users, Match Group never
// applies.
func (p *Policy) For(s watcher.Session, users sshdconf.Users) Effective {
	var r Rules
	for i := range p.Blocks {
		b := &p.Blocks[i]
		if b.Applies(s, users) {
			r.fill(b.Rules)
		}
	}
	r.fill(p.Global)
	var e Effective
	set(&e.IdleTimeout, r.IdleTimeout)
	set(&e.WarnBefore, r.WarnBefore)
	set(&e.MaxSessionTime, r.MaxSessionTime)
	set(&e.Exempt, r.Exempt)
	set(&e.CloseNoTTY, r.CloseNoTTY)
	set(&e.WarnMessage, r.WarnMessage)
	return e
}

// MatchesAddresses reports whether a Match block of p tests a session's
// addresses (Address, LocalAddress, LocalPort): then a session whose
// addresses are unknown cannot be given its rules.
func (p *Policy) MatchesAddresses() bool {
	for _, b := range p.Blocks {
		for _, c := range b.Criteria {
			switch c.Name {
			case "address", "localaddress", "localport":
				return true
			}
		}
	}
	return false
}

// fill sets the per-session keywords of r that are still unset from src.
func (r *Rules) fill(src Rules) {
	first(&r.IdleTimeout, src.IdleTimeout)
	first(&r.WarnBefore, src.WarnBefore)
	first(&r.MaxSessionTime, src.MaxSessionTime)
	first(&r.Exempt, src.Exempt)
	first(&r.CloseNoTTY, src.CloseNoTTY)
	first(&r.WarnMessage, src.WarnMessage)
}

func first[T any](dst **T, src *T) {
	if *dst == nil {
		*dst = src
	}
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// Applies reports whether every criterion of the block matches session s,
// with the semantics of sshd's match_cfg_line:
//
//   - User: s.User against a pattern list ('*', '?', '!' negation),
//     case-sensitive; a negated match fails the criterion.
//   - Group: any of the user's groups matches the list, and none of them
//     matches a negated pattern (ga_match_pattern_list); an unknown user
//     belongs to no group.
//   - Address, LocalAddress: the address of s.Remote or s.Local against an
//     address list (CIDR blocks, wildcards, '!' negation).
//   - LocalPort: the port of s.Local.
//   - All: always.
//
// A session without the attribute (no user, no address) does not match.
func (b *Block) Applies(s watcher.Session, users sshdconf.Users) bool {
	for _, c := range b.Criteria {
		if !c.matches(s, users) {
			return false
		}
	}
	return true
}

func (c Criterion) matches(s watcher.Session, users sshdconf.Users) bool {
	switch c.Name {
	case "all":
		return true
	case "user":
		return s.User != "" && sshdconf.MatchPatternList(s.User, c.Pattern) == sshdconf.Matched
	case "group":
		return s.User != "" && matchGroup(users, s.User, c.Pattern)
	case "address":
		return s.Remote.IsValid() && sshdconf.MatchAddressList(s.Remote.Addr(), c.Pattern) == sshdconf.Matched
	case "localaddress":
		return s.Local.IsValid() && sshdconf.MatchAddressList(s.Local.Addr(), c.Pattern) == sshdconf.Matched
	case "localport":
		port, err := strconv.Atoi(c.Pattern)
		return err == nil && s.Local.IsValid() && int(s.Local.Port()) == port
	}
	// Parse refuses any other criterion; never apply a block we cannot read.
	return false
}

// matchGroup ports ga_match_pattern_list: a negated match of any group
// wins, else any positive match.
func matchGroup(users sshdconf.Users, user, patterns string) bool {
	if users == nil {
		return false
	}
	groups, ok := users.Groups(user)
	if !ok {
		return false
	}
	found := false
	for _, g := range groups {
		switch sshdconf.MatchPatternList(g, patterns) {
		case sshdconf.Negated:
			return false
		case sshdconf.Matched:
			found = true
		}
	}
	return found
}
