package lint

import (
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
)

func channelTimeoutSession() *Check {
	return &Check{
		Name:     "channeltimeout-session",
		Severity: Warning,
		Doc: "ChannelTimeout session=..., which times out no shell and no command. " +
			"sshd relabels session channels as session:shell, session:command and " +
			"session:subsystem:sftp before it looks up their timeout, so on OpenSSH 9.2 the type " +
			"\"session\" matches none of them (measured: a shell under session=2s stayed open). " +
			"Write session:*=... instead.",
		Run: func(p *Pass) {
			for _, d := range p.Config.Directives() {
				if !is(d, "ChannelTimeout") {
					continue
				}
				for i, a := range d.Args {
					typ, interval, ok := strings.Cut(a, "=")
					if ok && typ == "session" {
						p.Reportf(Warning, argPos(d, i),
							"ChannelTimeout %s matches no session on OpenSSH 9.2 (channels are typed session:shell, session:command, session:subsystem:sftp); write session:*=%s", a, interval)
					}
				}
			}
		},
	}
}

func channelTimeoutAlone() *Check {
	return &Check{
		Name:     "channeltimeout-without-unused",
		Severity: Warning,
		Doc: "ChannelTimeout without UnusedConnectionTimeout. " +
			"ChannelTimeout closes idle channels but not the connection: once its last channel is " +
			"closed the connection stays open, authenticated, until UnusedConnectionTimeout closes " +
			"connections that have no channels left.",
		Run: func(p *Pass) {
			var first *sshdconf.Directive
			unused := false
			for _, d := range p.Config.Directives() {
				switch {
				case is(d, "ChannelTimeout") && first == nil && !(len(d.Args) == 1 && strings.EqualFold(d.Args[0], "none")):
					first = d
				case is(d, "UnusedConnectionTimeout") && len(d.Args) == 1 && !strings.EqualFold(d.Args[0], "none") && d.Args[0] != "0":
					unused = true
				}
			}
			if first != nil && !unused {
				p.Reportf(Warning, first.Pos,
					"ChannelTimeout closes idle channels, but the connection stays open without UnusedConnectionTimeout; add for example \"UnusedConnectionTimeout 5m\"")
			}
		},
	}
}
