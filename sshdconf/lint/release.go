package lint

import (
	"fmt"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// refusal says why release r's sshd refuses keyword k ("Bad configuration
// option"), naming both: "PerSourcePenalties needs OpenSSH 9.8; this tree
// is checked as OpenSSH 9.2 (Debian)". It returns "" when r knows k.
func refusal(k *sshdconf.Keyword, r *sshdconf.Release) string {
	switch {
	case k.In(r):
		return ""
	case k.Debian && !r.Debian():
		return fmt.Sprintf("%s is a Debian patch; %s upstream refuses it", k.Name, r)
	case k.Since != "" && r.Before(k.Since):
		return fmt.Sprintf("%s needs OpenSSH %s; this tree is checked as %s", k.Name, k.Since, r)
	case k.Until != "" && r.AtLeast(k.Until):
		return fmt.Sprintf("%s was removed in OpenSSH %s; this tree is checked as %s", k.Name, k.Until, r)
	}
	return fmt.Sprintf("%s is not known to %s", k.Name, r)
}

// knows reports whether the release the configuration is read as knows the
// keyword called name: advice never recommends a keyword it refuses.
func knows(c *sshdconf.Config, name string) bool {
	k := sshdconf.Lookup(name)
	return k != nil && k.In(c.Release())
}

// sshdIdleTimeouts are sshd's own settings that close idle sessions
// (ChannelTimeout) and the connections left without channels
// (UnusedConnectionTimeout), both from OpenSSH 9.2; "" on a release that
// refuses them, where the sshwarden agent is the only way.
func sshdIdleTimeouts(c *sshdconf.Config) string {
	if knows(c, "ChannelTimeout") && knows(c, "UnusedConnectionTimeout") {
		return "ChannelTimeout session:*=... with UnusedConnectionTimeout"
	}
	return ""
}

// fileLine is a line of a file, as sshd numbers them.
type fileLine struct {
	file string
	line int
}
