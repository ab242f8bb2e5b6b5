package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sshwarden/sshwarden/watcher"
)

const sessionsUsage = `usage: sshwarden sessions [--json] [--proc DIR] [--policy FILE|builtin:NAME]

Lists the live SSH sessions of this host, like w(1) but for SSH and for
sessions without a terminal too. Every field comes from kernel facts (the
uid of the session's process, its file descriptors and TCP socket), never
from a process title, so a user cannot fake a session. IDLE is the time
since the last keystroke for a terminal (the kernel records it to within
8 seconds); "-" where a single look cannot tell (exec, sftp, ssh -N).
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
	policyName := fs.String("policy", "", "policy `file` or builtin:NAME; checked now, its limits per session come with the agent")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		e.errorf("sessions takes no arguments: %q", rest)
		return exitUsage
	}
	if *policyName != "" && *policyName != "none" {
		if _, ok := e.loadRequirements(*policyName); !ok {
			return exitUsage
		}
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
	if *asJSON {
		err = writeSessionsJSON(e.stdout, sessions)
	} else {
		err = writeSessionsTable(e.stdout, sessions, now)
	}
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	return exitOK
}

// sessionJSON is one session in the JSON contract.
type sessionJSON struct {
	PID        int      `json:"pid"`
	User       string   `json:"user"`
	UID        int      `json:"uid"`
	RemoteAddr string   `json:"remote_addr"`
	RemotePort int      `json:"remote_port"`
	LocalAddr  string   `json:"local_addr"`
	LocalPort  int      `json:"local_port"`
	TTY        string   `json:"tty"`
	Kind       string   `json:"kind"`
	Started    string   `json:"started"`
	Idle       *float64 `json:"idle_seconds"`
	SessionID  uint32   `json:"session_id,omitempty"`
	Command    string   `json:"command,omitempty"`
}

func writeSessionsJSON(w io.Writer, ss []watcher.Session) error {
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
		out.Sessions = append(out.Sessions, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeSessionsTable(w io.Writer, ss []watcher.Session, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tFROM\tTTY\tKIND\tLOGIN@\tIDLE\tPID")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", printable(s.User), s.Remote, tty, s.Kind, login, idle, s.PID)
	}
	return tw.Flush()
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
