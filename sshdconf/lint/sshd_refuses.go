package lint

import (
	"fmt"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
)

func sshdRefuses() *Check {
	return &Check{
		Name:     "sshd-refuses",
		Severity: Error,
		Doc: "A line that makes sshd refuse the configuration and fail to start. " +
			"sshd reads the whole configuration at start and on every reload: an unknown keyword, " +
			"a bad value, a keyword Match does not allow, a malformed Match condition or an Include " +
			"nested too deep makes it exit, and a reload with such a file stops the listener. " +
			"The message is sshd's own; a keyword that the release the tree is checked as does not know " +
			"(a newer one, one it removed, a Debian patch on an upstream build) is named with the release " +
			"it needs. Fix the line before reloading.",
		Run: func(p *Pass) {
			rel := p.Config.Release()
			// Lines that hold a keyword of another release: sshd also says
			// such a keyword "is not allowed within a Match block" (it knows
			// nothing of it), which the first finding explains.
			otherRelease := map[fileLine]bool{}
			for _, d := range p.Config.Diags() {
				if d.Kind == sshdconf.KindBadOption && badOptionMessage(d, rel) != d.Msg {
					otherRelease[fileLine{d.Pos.File, d.Pos.Line}] = true
				}
			}
			for _, d := range p.Config.Diags() {
				if d.Severity == sshdconf.SevInfo || d.Kind == sshdconf.KindTerminating || d.Kind == sshdconf.KindDetail {
					continue
				}
				msg := d.Msg
				switch d.Kind {
				case sshdconf.KindBadOption:
					msg = badOptionMessage(d, rel)
				case sshdconf.KindNotInMatch:
					if otherRelease[fileLine{d.Pos.File, d.Pos.Line}] {
						continue
					}
					msg = notInMatchMessage(d, rel)
				}
				p.Reportf(Error, d.Pos, "%s (sshd: %s)", msg, d.SSHD)
			}
		},
	}
}

// badOptionMessage explains an unknown keyword: a typo, or a keyword that
// the release the tree is checked as does not know (a newer one, one it
// removed, a Debian patch on an upstream build).
func badOptionMessage(d sshdconf.Diag, r *sshdconf.Release) string {
	var kw string
	if _, err := fmt.Sscanf(d.Msg, "unknown keyword %q", &kw); err == nil {
		if k := sshdconf.Lookup(kw); k != nil {
			if why := refusal(k, r); why != "" {
				return why
			}
		}
	}
	return d.Msg
}

// notInMatchMessage adds to sshd's "not allowed inside a Match block" the
// release from which Match allows the keyword, when a later one does.
func notInMatchMessage(d sshdconf.Diag, r *sshdconf.Release) string {
	name, ok := strings.CutSuffix(d.Msg, " is not allowed inside a Match block")
	if k := sshdconf.Lookup(name); ok && k != nil && k.MatchSince != "" && r.Before(k.MatchSince) {
		return fmt.Sprintf("%s; Match allows it from OpenSSH %s, and this tree is checked as %s", d.Msg, k.MatchSince, r)
	}
	return d.Msg
}

func deprecated() *Check {
	return &Check{
		Name:     "deprecated",
		Severity: Warning,
		Doc: "A keyword sshd ignores: deprecated or not supported by this build. " +
			"sshd logs it and goes on, so the line has no effect; remove it, or use the keyword that replaced it.",
		Run: func(p *Pass) {
			for _, d := range p.Config.Diags() {
				if d.Kind == sshdconf.KindDeprecated {
					p.Reportf(Warning, d.Pos, "%s: the line has no effect", d.Msg)
				}
			}
		},
	}
}
