package lint

import (
	"github.com/sshwarden/sshwarden/sshdconf"
)

func clientAliveCountMaxZero() *Check {
	return &Check{
		Name:     "clientalivecountmax-zero",
		Severity: Warning,
		Doc: "ClientAliveCountMax 0, which switches disconnection off. " +
			"Since OpenSSH 8.2 a count of 0 disables the dead-peer check instead of closing the " +
			"connection after one unanswered probe, as old CIS and STIG guidance expected; and even " +
			"then it never closed an idle session whose client answers. Write a count of 1 to 3, and " +
			"close idle sessions with the sshwarden agent (IdleTimeout).",
		Run: func(p *Pass) {
			for _, d := range p.Config.Directives() {
				if !is(d, "ClientAliveCountMax") || len(d.Args) != 1 || d.Args[0] != "0" {
					continue
				}
				p.Reportf(Warning, argPos(d, 0),
					"ClientAliveCountMax 0 disables disconnection of unresponsive clients (since OpenSSH 8.2), it does not close idle sessions; write ClientAliveCountMax 3")
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
			"terminal is never disconnected. Reported once per configuration.",
		Run: func(p *Pass) {
			for _, d := range p.Config.Directives() {
				if !is(d, "ClientAliveInterval") || len(d.Args) != 1 || d.Args[0] == "0" {
					continue
				}
				p.Reportf(Info, d.Pos,
					"ClientAliveInterval drops dead peers only: a client that answers the probes stays connected however long it is idle; use the sshwarden agent's IdleTimeout (or ChannelTimeout session:*=... with UnusedConnectionTimeout) to close idle sessions")
				return
			}
		},
	}
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
