package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/enforcer"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/watcher"
)

const sessionsUsage = `usage: sshwarden sessions [--json] [--proc DIR] [--policy FILE|builtin:NAME|none]

Lists the live SSH sessions of this host, like w(1) but for SSH and for
sessions without a terminal too. Every field comes from kernel facts (the
uid of the session's process, its file descriptors and TCP socket), never
from a process title, so a user cannot fake a session. IDLE is the time
since the last keystroke for a terminal (the kernel records it to within
8 seconds); "-" where a single look cannot tell (exec, sftp, ssh -N).
LIMIT and NEXT say what the policy does to the session and when, as the
agent decides it: the idle limit, and the next warning or close.
Without root, other users' sessions are partly hidden: run as root.

Examples:
  sshwarden sessions
  sshwarden sessions --json | jq '.sessions[] | select(.idle_seconds > 600)'

Flags:
`

func runSessions(e *env, args []string) int {
	fs := flag.NewFlagSet("sessions", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, sessionsUsage); fs.PrintDefaults() }
	asJSON := fs.Bool("json", false, "print JSON: {\"sessions\":[...]}")
	proc := fs.String("proc", "/proc", "read processes from `dir` instead of /proc")
	policyName := fs.String("policy", "", "policy `file` or builtin:NAME for the LIMIT and NEXT columns (default: "+policy.DefaultPath+" if present, else builtin:default; none: leave them out)")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		e.errorf("sessions takes no arguments: %q", rest)
		return exitUsage
	}
	// The policy gives each session its limits and the agent's next
	// action; "none" leaves them out.
	var pol *policy.Policy
	if *policyName != "none" {
		p, ok := e.loadPolicy(policyPath(*policyName))
		if !ok {
			return exitUsage
		}
		pol = p
	}
	sc, err := watcher.NewScanner(watcher.Options{Proc: *proc})
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	now := time.Now()
	sessions, problems, err := sc.Scan(now)
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "sshwarden: note: %s\n", p)
	}
	var users sshdconf.Users
	if pol != nil {
		users = sshdconf.LoadFileUsers(os.DirFS("/"))
	}
	if *asJSON {
		err = writeSessionsJSON(e.stdout, sessions, pol, users, now)
	} else {
		err = writeSessionsTable(e.stdout, sessions, pol, users, now)
	}
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	return exitOK
}

// sessionJSON is one session in the JSON contract.
type sessionJSON struct {
	PID        int         `json:"pid"`
	User       string      `json:"user"`
	UID        int         `json:"uid"`
	RemoteAddr string      `json:"remote_addr"`
	RemotePort int         `json:"remote_port"`
	LocalAddr  string      `json:"local_addr"`
	LocalPort  int         `json:"local_port"`
	TTY        string      `json:"tty"`
	Kind       string      `json:"kind"`
	Started    string      `json:"started"`
	Idle       *float64    `json:"idle_seconds"`
	SessionID  uint32      `json:"session_id,omitempty"`
	Command    string      `json:"command,omitempty"`
	Policy     *policyJSON `json:"policy,omitempty"`
	Action     *actionJSON `json:"action,omitempty"`
}

// policyJSON is what the policy asks of one session: each limit in
// seconds (0: none) and the FILE:LINE that set it (left out for a
// built-in default).
type policyJSON struct {
	Name               string `json:"name"`
	IdleTimeoutSeconds int64  `json:"idle_timeout_seconds"`
	IdleTimeoutRule    string `json:"idle_timeout_rule,omitempty"`
	WarnBeforeSeconds  int64  `json:"warn_before_seconds"`
	WarnBeforeRule     string `json:"warn_before_rule,omitempty"`
	MaxSessionSeconds  int64  `json:"max_session_seconds"`
	MaxSessionRule     string `json:"max_session_rule,omitempty"`
	Exempt             bool   `json:"exempt"`
	ExemptRule         string `json:"exempt_rule,omitempty"`
	CloseNoTTY         bool   `json:"close_notty"`
}

// actionJSON is what the agent will do next, and when; null when nothing
// is due (exempt, ssh -N, no limit, or a session without a tty, whose
// idleness a single look cannot measure).
type actionJSON struct {
	Kind      string `json:"kind"`   // warn or close
	Reason    string `json:"reason"` // idle or max-session-time
	At        string `json:"at"`     // RFC 3339
	InSeconds int64  `json:"in_seconds"`
	Rule      string `json:"rule"` // FILE:LINE of the limit
}

func writeSessionsJSON(w io.Writer, ss []watcher.Session, pol *policy.Policy, users sshdconf.Users, now time.Time) error {
	out := struct {
		Sessions []sessionJSON `json:"sessions"`
	}{Sessions: []sessionJSON{}}
	for _, s := range ss {
		j := sessionJSON{
			PID: s.PID, User: s.User, UID: s.UID,
			RemoteAddr: s.Remote.Addr().String(), RemotePort: int(s.Remote.Port()),
			LocalAddr: s.Local.Addr().String(), LocalPort: int(s.Local.Port()),
			TTY: s.TTY, Kind: string(s.Kind), Started: s.Started.Format(time.RFC3339),
			SessionID: s.SessionID, Command: s.Command,
		}
		if s.Idle != nil {
			v := s.Idle.Seconds()
			j.Idle = &v
		}
		if pol != nil {
			e := pol.For(s, users)
			j.Policy = &policyJSON{
				Name:               pol.Name,
				IdleTimeoutSeconds: int64(e.IdleTimeout.Value.Seconds()), IdleTimeoutRule: audit.Rule(e.IdleTimeout.Pos),
				WarnBeforeSeconds: int64(e.WarnBefore.Value.Seconds()), WarnBeforeRule: audit.Rule(e.WarnBefore.Pos),
				MaxSessionSeconds: int64(e.MaxSessionTime.Value.Seconds()), MaxSessionRule: audit.Rule(e.MaxSessionTime.Pos),
				Exempt: e.Exempt.Value, ExemptRule: audit.Rule(e.Exempt.Pos),
				CloseNoTTY: e.CloseNoTTY.Value,
			}
			if x, at, ok := enforcer.Next(now, s, e); ok {
				j.Action = &actionJSON{Kind: x.Kind, Reason: x.Reason, At: at.Format(time.RFC3339),
					InSeconds: int64(max(at.Sub(now), 0).Seconds()), Rule: audit.Rule(x.Rule)}
			}
		}
		out.Sessions = append(out.Sessions, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeSessionsTable(w io.Writer, ss []watcher.Session, pol *policy.Policy, users sshdconf.Users, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	header := "USER\tFROM\tTTY\tKIND\tLOGIN@\tIDLE\tPID"
	if pol != nil {
		header += "\tLIMIT\tNEXT"
	}
	fmt.Fprintln(tw, header)
	for _, s := range ss {
		tty := s.TTY
		if tty == "" {
			tty = "-"
		}
		idle := "-"
		if s.Idle != nil {
			idle = shortDuration(*s.Idle)
		}
		login := s.Started.Local().Format("15:04")
		if now.Sub(s.Started) > 24*time.Hour {
			login = s.Started.Local().Format("02Jan")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d", printable(s.User), s.Remote, tty, s.Kind, login, idle, s.PID)
		if pol != nil {
			limit, next := limitAndNext(pol.For(s, users), s, now)
			fmt.Fprintf(tw, "\t%s\t%s", limit, next)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// limitAndNext are the table's LIMIT (the idle limit, "exempt", or "-")
// and NEXT ("warn in 3:07", "close now", or "-") columns.
func limitAndNext(e policy.Effective, s watcher.Session, now time.Time) (limit, next string) {
	switch {
	case e.Exempt.Value:
		return "exempt", "-"
	case s.Kind == watcher.KindNone:
		limit = "-" // left to sshd's UnusedConnectionTimeout
	case e.IdleTimeout.Value > 0 && (s.Kind == watcher.KindPTY || e.CloseNoTTY.Value):
		limit = shortDuration(e.IdleTimeout.Value)
	case e.MaxSessionTime.Value > 0:
		limit = "max " + shortDuration(e.MaxSessionTime.Value)
	default:
		limit = "-"
	}
	x, at, ok := enforcer.Next(now, s, e)
	if !ok {
		return limit, "-"
	}
	if !at.After(now) {
		return limit, x.Kind + " now"
	}
	return limit, x.Kind + " in " + shortDuration(at.Sub(now))
}

// shortDuration prints d like w(1): 5s, 3:07 (minutes:seconds), 2:05m
// (hours:minutes), 3days.
func shortDuration(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 60:
		return strconv.Itoa(s) + "s"
	case s < 3600:
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%d:%02dm", s/3600, s/60%60)
	}
	return fmt.Sprintf("%ddays", s/86400)
}

// printable keeps a name from the system (which a hostile user may have
// chosen) from writing control characters to the admin's terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
