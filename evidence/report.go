package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
)

// Sources are what a report is made from, each read by the caller from its
// real source: the configuration files through FS (the host, or a tree
// read as "/"), the agent's state from systemd, the trail from journald.
// An error in one source is said in the report, not fatal.
type Sources struct {
	FS         fs.FS
	SSHD       *sshdconf.Config // nil when it could not be read (SSHDErr)
	SSHDErr    error
	Policy     *policy.Policy // nil when none is installed (PolicyErr says why)
	PolicyErr  error
	Service    Service
	Logind     bool // systemd-logind runs here
	Trail      *audit.Report
	TrailErr   error
	TrailSince time.Time
	Profile    *Profile
	Host, OS   string
	Now        time.Time
}

// Report is the evidence of one host: what closes its idle SSH sessions,
// the controls of a profile judged on it, the audit trail, and the files it
// was read from.
type Report struct {
	Host    string    `json:"host"`
	OS      string    `json:"os"`
	OpenSSH string    `json:"openssh"`
	Made    time.Time `json:"made"`
	Profile string    `json:"profile"`
	// OK says every kind of session the profile covers is closed within
	// its limit; Told is false when the verdict could not be given
	// (nothing could be read).
	OK       bool          `json:"ok"`
	Told     bool          `json:"-"`
	Verdict  []KindJSON    `json:"verdict"`
	Controls []Control     `json:"controls"`
	Settings []SettingJSON `json:"settings"`
	Trail    *audit.Report `json:"trail"`
	Since    time.Time     `json:"trail_since"`
	Files    []FileHash    `json:"files"`
	Problems []string      `json:"problems"`
	mechs    []Mechanism   // for the text
	verdict  []KindVerdict // for the text
	logind   *Logind       // for the text
	tmout    *TMOUT        // for the text
	profile  *Profile      // for the text
}

// KindJSON is the verdict for one kind of session, with every mechanism
// as it stands for that kind.
type KindJSON struct {
	Kind         Kind            `json:"kind"`
	Closed       bool            `json:"closed"`
	By           string          `json:"by,omitempty"`
	LimitSeconds int64           `json:"limit_seconds,omitempty"`
	Source       string          `json:"source,omitempty"`
	Sentence     string          `json:"sentence"`
	Mechanisms   []MechanismJSON `json:"mechanisms"`
}

// MechanismJSON is a mechanism for one kind: limit_seconds is null when it
// does not close that kind.
type MechanismJSON struct {
	Name         string   `json:"name"`
	Configured   bool     `json:"configured"`
	Effective    bool     `json:"effective"`
	LimitSeconds *int64   `json:"limit_seconds"`
	Covers       []Kind   `json:"covers"`
	Source       string   `json:"source,omitempty"`
	Notes        []string `json:"notes"`
}

// SettingJSON is an sshd setting that bears on idle sessions, with the
// line that set it ("" for a default).
type SettingJSON struct {
	Keyword string `json:"keyword"`
	Value   string `json:"value"`
	Source  string `json:"source,omitempty"`
}

// FileHash is a file the evidence was read from, with its SHA-256.
type FileHash struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// idleKeywords are the sshd settings the report shows.
var idleKeywords = []string{"channeltimeout", "unusedconnectiontimeout", "clientaliveinterval", "clientalivecountmax", "usepam", "permitrootlogin", "logingracetime"}

// Build makes the report from s.
func Build(s Sources) *Report {
	r := &Report{Host: s.Host, OS: s.OS, Made: s.Now.UTC(), Problems: []string{}, Since: s.TrailSince, profile: s.Profile, Trail: s.Trail}
	if s.Profile != nil {
		r.Profile = s.Profile.Name
	}
	var ms []Mechanism
	var global *sshdconf.Effective
	usePAM := true
	if s.SSHD != nil {
		r.OpenSSH = s.SSHD.Release().String()
		ms = append(ms, SSHD(s.SSHD)...)
		global = s.SSHD.Global()
		usePAM = global.Value("usepam") == "yes"
		for _, kw := range idleKeywords {
			for _, st := range global.Get(kw) {
				src := ""
				if st.Pos.File != "" {
					src = fmt.Sprintf("%s:%d", st.Pos.File, st.Pos.Line)
				}
				r.Settings = append(r.Settings, SettingJSON{kw, st.Value, src})
			}
		}
		for _, f := range s.SSHD.Files {
			r.hash(f.Name, f.Bytes())
		}
		for _, d := range s.SSHD.Diags() {
			if d.Severity == sshdconf.SevFatal || d.Severity == sshdconf.SevError {
				r.Problems = append(r.Problems, fmt.Sprintf("sshd: %s: %s", d.Pos, d.Msg))
			}
		}
	} else if s.SSHDErr != nil {
		r.Problems = append(r.Problems, "sshd_config: "+s.SSHDErr.Error())
	}
	if s.PolicyErr != nil {
		r.Problems = append(r.Problems, "policy: "+s.PolicyErr.Error())
	}
	ms = append(ms, Agent(s.Policy, s.Service))
	if s.Policy != nil && !strings.HasPrefix(s.Policy.Name, "builtin:") {
		if b, err := fs.ReadFile(s.FS, strings.TrimPrefix(s.Policy.Name, "/")); err == nil {
			r.hash(s.Policy.Name, b)
		}
	}
	if l, err := ReadLogind(s.FS); err == nil {
		r.logind = l
		ms = append(ms, LogindMechanism(l, usePAM, s.Logind))
		for _, f := range l.Files {
			r.hashFile(s.FS, f)
		}
		for _, p := range l.Problems {
			r.Problems = append(r.Problems, "logind: "+p.String())
		}
	}
	t := ReadTMOUT(s.FS)
	r.tmout = t
	ms = append(ms, TMOUTMechanism(t))
	for _, f := range []string{"/etc/environment", "/etc/profile", "/etc/bash.bashrc"} {
		r.hashFile(s.FS, f)
	}
	for _, a := range t.Sets {
		r.hashFile(s.FS, a.Pos.File)
	}
	for _, p := range t.Problems {
		r.Problems = append(r.Problems, "shells: "+p.String())
	}
	if s.TrailErr != nil {
		r.Problems = append(r.Problems, "audit trail: "+s.TrailErr.Error())
	}
	r.mechs = ms
	r.verdict = Decide(ms)
	r.Told = s.SSHD != nil || s.Policy != nil || r.logind != nil
	for _, v := range r.verdict {
		k := KindJSON{Kind: v.Kind, Closed: v.Closed, By: v.By, Sentence: v.Sentence}
		if v.Closed {
			k.LimitSeconds, k.Source = int64(v.Limit/time.Second), v.Source.String()
		}
		for _, m := range ms {
			mj := MechanismJSON{Name: m.Name, Configured: m.Configured, Effective: m.Effective, Covers: m.Covers(), Notes: m.Notes}
			if mj.Notes == nil {
				mj.Notes = []string{}
			}
			if mj.Covers == nil {
				mj.Covers = []Kind{}
			}
			if d, ok := m.Limits[v.Kind]; ok {
				secs := int64(d / time.Second)
				mj.LimitSeconds = &secs
			}
			if m.Source.File != "" {
				mj.Source = m.Source.String()
			}
			k.Mechanisms = append(k.Mechanisms, mj)
		}
		r.Verdict = append(r.Verdict, k)
	}
	r.Controls = []Control{}
	if s.Profile != nil {
		r.Controls, r.OK = s.Profile.Judge(&Facts{Verdict: r.verdict, SSHD: global, Logind: r.logind, TMOUT: t})
	} else {
		r.OK = true
		for _, v := range r.verdict {
			r.OK = r.OK && v.Closed
		}
	}
	slices.SortFunc(r.Files, func(a, b FileHash) int { return strings.Compare(a.Path, b.Path) })
	r.Files = slices.CompactFunc(r.Files, func(a, b FileHash) bool { return a.Path == b.Path })
	return r
}

func (r *Report) hash(name string, b []byte) {
	sum := sha256.Sum256(b)
	r.Files = append(r.Files, FileHash{name, hex.EncodeToString(sum[:])})
}

func (r *Report) hashFile(fsys fs.FS, name string) {
	if b, err := fs.ReadFile(fsys, strings.TrimPrefix(name, "/")); err == nil {
		r.hash(name, b)
	}
}

// WriteText writes the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("sshwarden evidence for %s (%s), %s, made %s\n", r.Host, r.OS, orNone(r.OpenSSH, "sshd not read"), r.Made.Format("2006-01-02 15:04 MST"))
	if r.profile != nil {
		verdict := "FAIL: not every kind of session it covers is closed within " + fmtDuration(r.profile.Limit)
		if r.OK {
			verdict = "PASS: every kind of session it covers is closed within " + fmtDuration(r.profile.Limit)
		}
		p("profile %s (%s): %s\n", r.profile.Name, r.profile.Title, verdict)
	}
	p("\nWhat closes an idle SSH session here\n")
	for _, v := range r.verdict {
		p("  %-8s %s\n", v.Kind, v.Sentence)
	}
	p("\nMechanisms\n")
	for _, m := range r.mechs {
		state := "not configured"
		switch {
		case m.Effective:
			var lim []string
			for _, k := range m.Covers() {
				lim = append(lim, fmt.Sprintf("%s %s", k, fmtDuration(m.Limits[k])))
			}
			state = "closes " + strings.Join(lim, ", ")
		case m.Configured:
			state = "configured, closes nothing idle"
		}
		src := ""
		if m.Source.File != "" {
			src = " (" + m.Source.String() + ")"
		}
		p("  %s: %s%s\n", m.Name, state, src)
		for _, n := range m.Notes {
			p("      %s\n", n)
		}
	}
	if len(r.Controls) > 0 {
		p("\nControls of %s\n", r.profile.Title)
		for _, c := range r.Controls {
			p("  %-14s %s: %s\n", strings.ToUpper(c.Status), c.ID, c.Title)
			for _, e := range c.Evidence {
				p("                 %s\n", e)
			}
		}
	}
	p("\nsshd settings (global)\n")
	for _, s := range r.Settings {
		p("  %s %s  (%s)\n", s.Keyword, s.Value, orNone(s.Source, "default"))
	}
	if r.Trail != nil {
		p("\nAudit trail since %s\n", r.Since.Format("2006-01-02"))
		p("  warned %d, closed %d (idle %d, max-session-time %d), heeded %d, failed closes %d, records %d\n",
			r.Trail.Warned, r.Trail.Closed, r.Trail.ClosedByReason[audit.ReasonIdle], r.Trail.ClosedByReason[audit.ReasonMaxSessionTime],
			r.Trail.Heeded, r.Trail.CloseFailed, r.Trail.Records)
		switch {
		case r.Trail.Records == 0:
			p("  no record of the agent in this period: it did not run here, or its journal is kept elsewhere\n")
		case len(r.Trail.Gaps) == 0:
			p("  agent gaps: none (no stop and no restart without one in this period)\n")
		}
		for _, g := range r.Trail.Gaps {
			p("  agent on %s: %s\n", orNone(g.Host, "this host"), gapText(g))
		}
	}
	p("\nFiles read (SHA-256)\n")
	for _, f := range r.Files {
		p("  %s  %s\n", f.SHA256, f.Path)
	}
	if len(r.Problems) > 0 {
		p("\nProblems\n")
		for _, s := range r.Problems {
			p("  %s\n", s)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func gapText(g audit.Gap) string {
	at := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
	var b strings.Builder
	switch {
	case g.Clean:
		b.WriteString("stopped at " + at(g.From))
	case g.From.IsZero():
		b.WriteString("ended without a stop record (killed, crashed or power lost), at an unknown time")
	default:
		b.WriteString("ended without a stop record (killed, crashed or power lost) after its last record at " + at(g.From))
	}
	switch {
	case g.To.IsZero():
		b.WriteString("; not started again since")
	case g.From.IsZero():
		b.WriteString("; started again at " + at(g.To))
	default:
		d := g.To.Sub(g.From).Round(time.Second)
		took := "under 1s"
		if d >= time.Second {
			took = fmtDuration(d)
		}
		if !g.Clean {
			took = "at most " + took
		}
		b.WriteString(fmt.Sprintf("; started again at %s (%s without enforcement)", at(g.To), took))
	}
	return b.String()
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
