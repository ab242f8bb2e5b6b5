package evidence

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// Control statuses.
const (
	Pass          = "pass"
	Fail          = "fail"
	NotApplicable = "not-applicable"
)

// Control is one requirement of a profile, judged on the host's evidence.
type Control struct {
	ID       string // as the standard names it: "PCI DSS v4.0.1 8.2.8", "V-258068 / RHEL-09-412035"
	Title    string
	Status   string // Pass, Fail or NotApplicable
	Evidence []string
}

// Facts are what the controls are judged on.
type Facts struct {
	Verdict []KindVerdict
	SSHD    *sshdconf.Effective // sshd's global effective configuration; nil when unread
	Logind  *Logind
	TMOUT   *TMOUT
}

// Profile is a set of controls and the kinds of session it asks to be
// closed when idle, within Limit.
type Profile struct {
	Name  string
	Title string
	Limit time.Duration
	Kinds []Kind
	// controls judges the profile's own controls, besides the idle limit.
	controls func(f *Facts) []Control
}

// profiles are the built-in profiles, by name; they cite the same
// benchmarks as the policy's builtin:pci, builtin:cis and builtin:stig.
// Never written after init.
var profiles = map[string]*Profile{
	"pci": {Name: "pci", Title: "PCI DSS v4.0.1", Limit: 15 * time.Minute, Kinds: Kinds, controls: func(f *Facts) []Control {
		return []Control{idleControl("PCI DSS v4.0.1 8.2.8", "idle user sessions require re-authentication after 15 minutes or less", 15*time.Minute, Kinds, f)}
	}},
	"cis": {Name: "cis", Title: "CIS Debian Linux 12 Benchmark v1.1.0", Limit: 15 * time.Minute, Kinds: []Kind{KindPTY, KindRoot}, controls: func(f *Facts) []Control {
		return []Control{
			tmoutControl("CIS Debian 12 v1.1.0 5.4.3.2", "Ensure default user shell timeout is configured", 900, true, f),
			clientAliveControl("CIS Debian 12 v1.1.0 5.1.7", "Ensure sshd ClientAliveInterval and ClientAliveCountMax are configured", 0, 0, f),
			idleControl("sshwarden: CIS 5.4.3.2 intent", "idle interactive SSH sessions are closed within 15 minutes, whatever runs in them", 15*time.Minute, []Kind{KindPTY, KindRoot}, f),
		}
	}},
	"stig": {Name: "stig", Title: "DISA RHEL 9 STIG V2R7", Limit: 10 * time.Minute, Kinds: []Kind{KindPTY, KindRoot}, controls: func(f *Facts) []Control {
		return []Control{
			tmoutControl("V-258068 / RHEL-09-412035", "automatically exit interactive command shell user sessions after 10 minutes of inactivity", 600, false, f),
			logindControl("V-258077 / RHEL-09-412080", "terminate idle user sessions (logind StopIdleSessionSec=600)", 600*time.Second, f),
			clientAliveControl("V-257996 / RHEL-09-255100", "SSH connections are terminated after becoming unresponsive (ClientAliveInterval 600 or less)", 600, 0, f),
			clientAliveControl("V-257995 / RHEL-09-255095", "SSH connections are terminated after becoming unresponsive (ClientAliveCountMax 1)", 0, 1, f),
		}
	}},
}

// LookupProfile returns the built-in profile called name, or nil.
func LookupProfile(name string) *Profile { return profiles[name] }

// ProfileNames lists the built-in profiles.
func ProfileNames() []string {
	var n []string
	for k := range profiles {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

// Judge returns the profile's controls on f, and whether every kind the
// profile covers is closed within its limit.
func (p *Profile) Judge(f *Facts) ([]Control, bool) {
	ok := true
	for _, v := range f.Verdict {
		if slices.Contains(p.Kinds, v.Kind) && (!v.Closed || v.Limit > p.Limit) {
			ok = false
		}
	}
	return p.controls(f), ok
}

func idleControl(id, title string, limit time.Duration, kinds []Kind, f *Facts) Control {
	c := Control{ID: id, Title: title, Status: Pass}
	for _, v := range f.Verdict {
		if !slices.Contains(kinds, v.Kind) {
			continue
		}
		if !v.Closed || v.Limit > limit {
			c.Status = Fail
		}
		c.Evidence = append(c.Evidence, v.Sentence)
	}
	return c
}

func tmoutControl(id, title string, maxSecs int, needReadonly bool, f *Facts) Control {
	c := Control{ID: id, Title: title, Status: Fail}
	if f.TMOUT == nil {
		c.Evidence = []string{"the shells' start-up files could not be read"}
		return c
	}
	d, a := f.TMOUT.Limit()
	switch {
	case a == nil:
		c.Evidence = append(c.Evidence, "no start-up file sets TMOUT (/etc/profile, /etc/profile.d/*.sh, /etc/bash.bashrc)")
	case d <= 0:
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s: TMOUT=%s sets no limit", a.Pos, a.Value))
	case d > time.Duration(maxSecs)*time.Second:
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s: TMOUT=%s is over %d seconds", a.Pos, a.Value, maxSecs))
	default:
		c.Status = Pass
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s: TMOUT=%s", a.Pos, a.Value))
	}
	if f.TMOUT.Readonly != nil {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s: TMOUT is readonly", *f.TMOUT.Readonly))
	} else if a != nil {
		c.Evidence = append(c.Evidence, "TMOUT is not readonly: a user can turn it off")
		if needReadonly {
			c.Status = Fail
		}
	}
	return c
}

func logindControl(id, title string, max time.Duration, f *Facts) Control {
	c := Control{ID: id, Title: title, Status: Fail}
	switch l := f.Logind; {
	case l == nil:
		c.Evidence = []string{"logind's configuration could not be read"}
	case l.StopIdleSession == Infinity || l.StopIdleSession == 0:
		c.Evidence = []string{"StopIdleSessionSec is not set (infinity); files read: " + strings.Join(l.Files, ", ")}
	case l.StopIdleSession > max:
		c.Evidence = []string{fmt.Sprintf("%s: StopIdleSessionSec=%s is over %s", l.StopIdleAt, fmtDuration(l.StopIdleSession), fmtDuration(max))}
	default:
		c.Status = Pass
		c.Evidence = []string{fmt.Sprintf("%s: StopIdleSessionSec=%s", l.StopIdleAt, fmtDuration(l.StopIdleSession))}
	}
	return c
}

// clientAliveControl judges ClientAliveInterval (1..maxInterval, any
// positive value when maxInterval is 0) or, with maxCount > 0,
// ClientAliveCountMax (1..maxCount).
func clientAliveControl(id, title string, maxInterval, maxCount int, f *Facts) Control {
	c := Control{ID: id, Title: title, Status: NotApplicable}
	if f.SSHD == nil {
		c.Evidence = []string{"sshd's configuration could not be read"}
		return c
	}
	get := func(kw string) (int, string) {
		s := f.SSHD.Get(kw)
		if len(s) == 0 {
			return 0, "(not printed)"
		}
		n, _ := strconv.Atoi(s[0].Value)
		at := "default"
		if s[0].Pos.File != "" {
			at = s[0].Pos.String()
		}
		return n, fmt.Sprintf("%s %s (%s)", kw, s[0].Value, at)
	}
	iv, ivEv := get("clientaliveinterval")
	cm, cmEv := get("clientalivecountmax")
	c.Status = Pass
	if maxCount == 0 && (iv <= 0 || maxInterval > 0 && iv > maxInterval) {
		c.Status = Fail
	}
	if maxCount > 0 && (cm <= 0 || cm > maxCount) {
		c.Status = Fail
	}
	if maxCount == 0 && maxInterval == 0 && cm <= 0 {
		c.Status = Fail // CIS 5.1.7: both above 0
	}
	c.Evidence = []string{ivEv, cmEv, "ClientAlive* drops unresponsive clients only, never an idle one that answers"}
	return c
}
