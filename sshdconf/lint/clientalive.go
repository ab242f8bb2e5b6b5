package lint

import (
	"github.com/sshwarden/sshwarden/sshdconf"
)

func clientAliveCountMaxZero() *Check {
	return &Check{
		Name:     "clientalivecountmax-zero",
		Severity: Warning,
		Doc: "ClientAliveCountMax 0, which means one thing before OpenSSH 8.2 and the opposite after. " +
			"From 8.2 on a count of 0 disables the dead-peer check: no client is ever dropped for not " +
			"answering, and an idle session whose client answers was never closed by it anyway. Before " +
			"8.2 sshd closed the connection the first time ClientAliveInterval passed without traffic, " +
			"before sending any probe, so it dropped live idle clients and silent commands as well as " +
			"dead peers (measured on 8.0p1: a client running a silent command was closed after one " +
			"interval); old CIS and STIG guidance relied on that, and an upgrade turns it off. Write a " +
			"count of 1 to 3, and close idle sessions with the sshwarden agent (IdleTimeout).",
		Run: func(p *Pass) {
			rel := p.Config.Release()
			for _, d := range p.Config.Directives() {
				if !is(d, "ClientAliveCountMax") || len(d.Args) != 1 || d.Args[0] != "0" {
					continue
				}
				if rel.Before("8.2") {
					// serverloop.c client_alive_check: 8.0p1 exits at the first
					// timeout when the count is 0; 8.2p1 tests
					// "client_alive_count_max > 0" first. Measured in
					// internal/sshdtest TestClaimClientAliveCountMaxRelease.
					p.Reportf(Warning, argPos(d, 0),
						"ClientAliveCountMax 0 on %s closes a connection the first time ClientAliveInterval passes without traffic, before any probe: it drops live idle clients and silent commands too, and from OpenSSH 8.2 on the same line disables disconnection instead; write ClientAliveCountMax 3, and close idle sessions with the sshwarden agent (IdleTimeout)", rel)
					continue
				}
				p.Reportf(Warning, argPos(d, 0),
					"ClientAliveCountMax 0 disables disconnection of unresponsive clients on %s, as on every OpenSSH from 8.2 on; it does not close idle sessions; write ClientAliveCountMax 3", rel)
			}
		},
	}
}

func clientAliveNotIdle() *Check {
	return &Check{
		Name:     "clientalive-not-idle",
		Severity: Info,
		Doc: "ClientAliveInterval used as if it were an idle timeout. " +
			"The client answers sshd's keepalive probes, so ClientAliveInterval and ClientAliveCountMax " +
			"only drop dead peers (a crashed client, a broken network); an idle user at a live " +
			"terminal is never disconnected. (Before OpenSSH 8.2, ClientAliveCountMax 0 also dropped " +
			"silent live clients: clientalivecountmax-zero reports that.) The advice names sshd's own " +
			"ChannelTimeout and UnusedConnectionTimeout only on releases that have them (9.2 and later). " +
			"Reported once per configuration.",
		Run: func(p *Pass) {
			if p.Config.Release().Before("8.2") && hasCountMaxZero(p.Config) {
				return // not true there: clientalivecountmax-zero says what it does
			}
			for _, d := range p.Config.Directives() {
				if !is(d, "ClientAliveInterval") || len(d.Args) != 1 || d.Args[0] == "0" {
					continue
				}
				alt := ""
				if s := sshdIdleTimeouts(p.Config); s != "" {
					alt = " (or " + s + ")"
				}
				p.Reportf(Info, d.Pos,
					"ClientAliveInterval drops dead peers only: a client that answers the probes stays connected however long it is idle; use the sshwarden agent's IdleTimeout%s to close idle sessions", alt)
				return
			}
		},
	}
}

// hasCountMaxZero reports whether a line sets ClientAliveCountMax 0.
func hasCountMaxZero(c *sshdconf.Config) bool {
	for _, d := range c.Directives() {
		if is(d, "ClientAliveCountMax") && len(d.Args) == 1 && d.Args[0] == "0" {
			return true
		}
	}
	return false
}

// is reports whether d sets the keyword named name (or an alias of it).
func is(d *sshdconf.Directive, name string) bool {
	k := d.Keyword
	return k != nil && (k.Name == name || k.AliasOf == name)
}

// argPos returns the position of argument i of d, or of d.
func argPos(d *sshdconf.Directive, i int) sshdconf.Pos {
	p := d.Pos
	if d.Line != nil && i < len(d.Line.Args()) {
		p.Col = d.Line.Args()[i].Off + 1
	}
	return p
}
