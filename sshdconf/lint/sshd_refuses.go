package lint

import (
	"fmt"

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
			"The message is sshd's own; fix the line before reloading.",
		Run: func(p *Pass) {
			for _, d := range p.Config.Diags() {
				if d.Severity == sshdconf.SevInfo || d.Kind == sshdconf.KindTerminating || d.Kind == sshdconf.KindDetail {
					continue
				}
				msg := d.Msg
				if d.Kind == sshdconf.KindBadOption {
					msg = badOptionMessage(d)
				}
				p.Reportf(Error, d.Pos, "%s (sshd: %s)", msg, d.SSHD)
			}
		},
	}
}

// badOptionMessage explains an unknown keyword: a typo, or a keyword of a
// newer OpenSSH than the one modelled.
func badOptionMessage(d sshdconf.Diag) string {
	var kw string
	if _, err := fmt.Sscanf(d.Msg, "unknown keyword %q", &kw); err == nil {
		if k := sshdconf.Lookup(kw); k != nil && k.Since != "" {
			return fmt.Sprintf("%s needs OpenSSH %s or later; sshd 9.2 refuses it", k.Name, k.Since)
		}
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
