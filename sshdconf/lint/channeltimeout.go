package lint

import (
	"fmt"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
)

func channelTimeoutSession() *Check {
	return &Check{
		Name:     "channeltimeout-session",
		Severity: Warning,
		Doc: "ChannelTimeout session=..., which times out no shell and no command. " +
			"sshd relabels session channels as session:shell, session:command and " +
			"session:subsystem:sftp before it looks up their timeout, so the type \"session\" " +
			"matches none of them (measured on OpenSSH 9.2: a shell under session=2s stayed open; " +
			"10.5p1's session.c sets the same types). Write session:*=... instead. Releases before " +
			"9.2 refuse ChannelTimeout itself (sshd-refuses).",
		Run: func(p *Pass) {
			if !knows(p.Config, "ChannelTimeout") {
				return // sshd-refuses reports every line
			}
			rel := p.Config.Release()
			for _, d := range p.Config.Directives() {
				if !is(d, "ChannelTimeout") {
					continue
				}
				for i, a := range d.Args {
					typ, interval, ok := strings.Cut(a, "=")
					if ok && typ == "session" {
						p.Reportf(Warning, argPos(d, i),
							"ChannelTimeout %s matches no session: %s types session channels session:shell, session:command, session:subsystem:sftp; write session:*=%s", a, rel, interval)
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
			if !knows(p.Config, "ChannelTimeout") || !knows(p.Config, "UnusedConnectionTimeout") {
				return // sshd-refuses reports every line
			}
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

// channelTimeoutFixed is the first release whose sessions get the
// ChannelTimeout of the Match blocks that apply to them (10.5p1's
// getpwnamallow sets the channel timeouts again after applying them).
const channelTimeoutFixed = "10.5"

func channelTimeoutInMatch() *Check {
	return &Check{
		Name:     "channeltimeout-in-match",
		Severity: Warning,
		Doc: "ChannelTimeout in a Match block, which sessions ignore before OpenSSH 10.5. " +
			"sshd -T -C prints the Match block's value for the connections it matches, but the " +
			"running session keeps the global ChannelTimeout (measured on 9.2 and 10.0: a command " +
			"under a Match block's session:*=3s ran on, and under a global 3s with a Match block's 1h " +
			"it was closed after 3 s); 10.5 applies it. A \"Match all\" block is applied with the global " +
			"configuration and works, and UnusedConnectionTimeout in a Match block reaches the session " +
			"(measured on 9.2 and 10.0). Set ChannelTimeout globally, or give those users an IdleTimeout " +
			"in a Match block of the sshwarden policy. Reported only for releases before 10.5.",
		Run: func(p *Pass) {
			rel := p.Config.Release()
			if !knows(p.Config, "ChannelTimeout") || rel.AtLeast(channelTimeoutFixed) {
				return
			}
			for _, d := range p.Config.Directives() {
				if !is(d, "ChannelTimeout") || d.Match == nil || d.Match.MatchAll() {
					continue
				}
				p.Report(Finding{Severity: Warning, Pos: d.Pos, Related: []sshdconf.Pos{d.Match.Pos},
					Message: fmt.Sprintf("%s in the Match block at %s does not reach the sessions it matches on %s: sshd -T -C prints it, "+
						"but before OpenSSH %s sessions get only the global ChannelTimeout; set it before the first Match, "+
						"or give those users an IdleTimeout in a Match block of the sshwarden policy",
						lineText(d), short(d.Match.Pos), rel, channelTimeoutFixed)})
			}
		},
	}
}
