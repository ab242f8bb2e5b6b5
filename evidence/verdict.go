package evidence

import (
	"fmt"
	"strings"
	"time"
)

// LogindMechanism tells what systemd-logind closes: with StopIdleSessionSec
// set, sessions with a tty whose tty has not been read for that long (it
// reads the tty's atime only), and only sessions pam_systemd registered,
// so sshd must run with UsePAM yes. usePAM is sshd's effective UsePAM;
// running says logind runs (false when systemd is not the init system).
func LogindMechanism(l *Logind, usePAM, running bool) Mechanism {
	m := Mechanism{Name: "logind StopIdleSessionSec"}
	if l == nil {
		return m
	}
	if l.StopIdleSession == Infinity || l.StopIdleSession == 0 {
		return m
	}
	m.Configured, m.Source = true, l.StopIdleAt
	switch {
	case !usePAM:
		m.note("sshd runs with UsePAM no: pam_systemd never registers SSH logins with logind, which therefore stops none")
	case !running:
		m.note("systemd-logind does not run here: nothing reads this setting")
	default:
		m.closes(KindPTY, l.StopIdleSession)
		m.closes(KindRoot, l.StopIdleSession)
		m.note("logind judges idleness by the tty's access time only, and stops the whole session scope (tmux, nohup jobs included)")
		m.note("sessions without a tty (commands, sftp, ssh -N) are never idle to logind")
	}
	if l.KillUserProcesses {
		m.note("%s: KillUserProcesses=yes: a user's processes end with the session", l.KillAt)
	}
	return m
}

// TMOUTMechanism tells what the shells' TMOUT closes: an interactive bash
// (or ksh, zsh) sitting at its prompt, so pty logins whose login shell
// reads the system start-up files.
func TMOUTMechanism(t *TMOUT) Mechanism {
	m := Mechanism{Name: "shell TMOUT"}
	if t == nil {
		return m
	}
	d, a := t.Limit()
	if a == nil {
		return m
	}
	m.Configured, m.Source = true, a.Pos
	if d <= 0 {
		m.note("%s: TMOUT=%s sets no limit", a.Pos, a.Value)
		return m
	}
	m.closes(KindPTY, d)
	m.closes(KindRoot, d)
	if t.Readonly == nil {
		m.note("TMOUT is not readonly: a user turns it off with TMOUT=0 or unset TMOUT")
	} else {
		m.note("%s: readonly; still escaped by a shell that ignores it (dash, sh) or skips the start-up files (bash --norc --noprofile), and by a user's login shell other than bash", *t.Readonly)
	}
	m.note("only a shell at its prompt times out: a session running vim, less or a sub-command is never closed by TMOUT; commands and sftp never read it")
	return m
}

// KindVerdict says what closes one kind of idle session, and when.
type KindVerdict struct {
	Kind Kind
	// Closed says some mechanism closes an idle session of this kind; By
	// is the one that acts first, after Limit, set at Source.
	Closed bool
	By     string
	Limit  time.Duration
	Source Pos
	// Others are the other mechanisms that would close it later.
	Others   []string
	Sentence string
}

// kindNames are the kinds as the verdict's sentences name them.
var kindNames = map[Kind]string{
	KindPTY:     "Idle interactive SSH sessions",
	KindNoTTY:   "Idle command and sftp sessions",
	KindForward: "Idle forwarding-only sessions (ssh -N)",
	KindRoot:    "Idle root logins",
}

// Decide gives the verdict for each kind from the mechanisms: the one with
// the shortest limit for a kind acts first.
func Decide(ms []Mechanism) []KindVerdict {
	var out []KindVerdict
	for _, k := range Kinds {
		v := KindVerdict{Kind: k}
		for _, m := range ms {
			d, ok := m.Limits[k]
			if !ok || !m.Effective {
				continue
			}
			if !v.Closed || d < v.Limit {
				if v.Closed {
					v.Others = append(v.Others, v.By)
				}
				v.Closed, v.By, v.Limit, v.Source = true, m.Name, d, m.Source
			} else {
				v.Others = append(v.Others, m.Name)
			}
		}
		v.Sentence = sentence(v, ms)
		out = append(out, v)
	}
	return out
}

func sentence(v KindVerdict, ms []Mechanism) string {
	name := kindNames[v.Kind]
	if v.Closed {
		s := fmt.Sprintf("%s are closed after %s by the %s (%s)", name, fmtDuration(v.Limit), v.By, v.Source)
		if len(v.Others) > 0 {
			s += "; also by " + strings.Join(v.Others, ", ") + " later"
		}
		return s + "."
	}
	// Why not: the configured mechanisms that do not cover this kind.
	var why []string
	for _, m := range ms {
		if !m.Configured {
			continue
		}
		if !m.Effective && len(m.Notes) > 0 {
			why = append(why, m.Name+": "+m.Notes[0])
		} else if _, ok := m.Limits[v.Kind]; !ok {
			why = append(why, m.Name+" does not close them")
		}
	}
	s := name + " are never closed"
	if len(why) == 0 {
		s += ": nothing on this host is configured to close them"
	} else {
		s += ": " + strings.Join(why, "; ")
	}
	return s + "."
}
