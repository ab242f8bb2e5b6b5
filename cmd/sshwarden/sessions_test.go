package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// TestSessionsJSON checks the JSON contract of `sessions --json` (tests
// outside the repository read it) on a live pty session and a -N session
// of a throwaway sshd, and that the table lists them.
func TestSessionsJSON(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	ctx := context.Background()
	var clients []*sshdtest.Client
	for _, args := range [][]string{{"-tt", "sleep 60"}, {"-N"}} {
		c, err := s.StartClient(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	defer func() {
		for _, c := range clients {
			c.Signal(syscall.SIGTERM)
			c.Wait(5 * time.Second)
		}
	}()

	// The contract's fields (relSession, shared with the release
	// tests), and the policy and the next action.
	type session struct {
		relSession
		Policy *struct {
			Name               string `json:"name"`
			IdleTimeoutSeconds int64  `json:"idle_timeout_seconds"`
			IdleTimeoutRule    string `json:"idle_timeout_rule"`
			WarnBeforeSeconds  int64  `json:"warn_before_seconds"`
			WarnBeforeRule     string `json:"warn_before_rule"`
			MaxSessionSeconds  int64  `json:"max_session_seconds"`
			MaxSessionRule     string `json:"max_session_rule"`
			Exempt             bool   `json:"exempt"`
			ExemptRule         string `json:"exempt_rule"`
			CloseNoTTY         bool   `json:"close_notty"`
		} `json:"policy"`
		Action *struct {
			Kind      string `json:"kind"`
			Reason    string `json:"reason"`
			At        string `json:"at"`
			InSeconds int64  `json:"in_seconds"`
			Rule      string `json:"rule"`
		} `json:"action"`
	}
	var mine []session
	deadline := time.Now().Add(15 * time.Second)
	for {
		var stdout, stderr bytes.Buffer
		if got := run([]string{"sessions", "--json", "--policy", "builtin:default"}, &stdout, &stderr); got != exitOK {
			t.Fatalf("sessions --json = %d, want 0\n%s", got, &stderr)
		}
		// Every key of the contract is there, with its JSON type.
		var raw struct{ Sessions []map[string]any }
		if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
			t.Fatalf("sessions --json printed invalid JSON: %v\n%s", err, &stdout)
		}
		for _, m := range raw.Sessions {
			for key, kind := range map[string]string{"pid": "float64", "user": "string", "uid": "float64", "remote_addr": "string", "remote_port": "float64",
				"local_addr": "string", "local_port": "float64", "tty": "string", "kind": "string", "started": "string"} {
				if got := fmt.Sprintf("%T", m[key]); got != kind {
					t.Errorf("session %v: %q is %s, want %s", m["pid"], key, got, kind)
				}
			}
			if v, ok := m["idle_seconds"]; !ok || (v != nil && fmt.Sprintf("%T", v) != "float64") {
				t.Errorf("session %v: idle_seconds = %#v, want a number or null", m["pid"], v)
			}
		}
		var out struct{ Sessions []session }
		dec := json.NewDecoder(&stdout)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out); err != nil {
			t.Fatal(err)
		}
		mine = mine[:0]
		kinds := map[string]int{}
		for _, x := range out.Sessions {
			if x.LocalPort == s.Port {
				mine = append(mine, x)
				kinds[x.Kind]++
			}
		}
		// Until its pty is allocated, the shell's login is a login
		// without a channel: wait for both kinds.
		if (kinds["pty"] == 1 && kinds["none"] == 1) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(mine) != 2 {
		t.Fatalf("sessions on port %d: %+v, want the pty and the -N session", s.Port, mine)
	}
	kinds := map[string]session{}
	for _, x := range mine {
		kinds[x.Kind] = x
		if x.User != s.User || x.RemoteAddr != "127.0.0.1" || x.LocalAddr != "127.0.0.1" || x.RemotePort == 0 {
			t.Errorf("session %+v: want user %s from 127.0.0.1", x, s.User)
		}
		if st, err := time.Parse(time.RFC3339, x.Started); err != nil || time.Since(st) > time.Minute || time.Until(st) > 2*time.Second {
			t.Errorf("session %d started %q, want RFC 3339 within the last minute", x.PID, x.Started)
		}
	}
	pty, none := kinds["pty"], kinds["none"]
	if !strings.HasPrefix(pty.TTY, "pts/") || pty.Idle == nil {
		t.Errorf("pty session %+v: want a pts tty and an idle time", pty)
	}
	if none.PID == 0 || none.TTY != "" || none.Idle != nil {
		t.Errorf("-N session %+v: want kind none, no tty, idle null", none)
	}

	// builtin:default: IdleTimeout 15m at line 36, WarnBefore 1m at 42,
	// MaxSessionTime 0 at 46. The
	// pty session is warned 14 minutes after its last input (the end of
	// the kernel's 8-second atime window); the -N session is left to sshd.
	if p := pty.Policy; p == nil || p.Name != "builtin:default" || p.IdleTimeoutSeconds != 900 || p.IdleTimeoutRule != "builtin:default:36" ||
		p.WarnBeforeSeconds != 60 || p.WarnBeforeRule != "builtin:default:42" || p.MaxSessionSeconds != 0 || p.MaxSessionRule != "builtin:default:46" || p.Exempt {
		t.Errorf("pty session's policy %+v", p)
	}
	if a := pty.Action; a == nil || a.Kind != "warn" || a.Reason != "idle" || a.Rule != "builtin:default:36" || a.InSeconds < 780 || a.InSeconds > 848 {
		t.Errorf("pty session's action %+v, want a warning in 780..848 s for builtin:default:36", a)
	}
	if none.Policy == nil || none.Action != nil {
		t.Errorf("-N session: policy %+v, action %+v; want the policy and no action", none.Policy, none.Action)
	}

	var table bytes.Buffer
	if got := run([]string{"sessions", "--policy", "builtin:default"}, &table, &bytes.Buffer{}); got != exitOK {
		t.Fatalf("sessions = %d", got)
	}
	if !strings.HasPrefix(table.String(), "USER ") || !strings.Contains(table.String(), " LIMIT  NEXT") || !strings.Contains(table.String(), pty.TTY) {
		t.Errorf("the table lacks the header or the pty session:\n%s", &table)
	}
	for _, l := range strings.Split(table.String(), "\n") {
		if strings.Contains(l, pty.TTY) && (!strings.Contains(l, " 15:00 ") || !strings.Contains(l, " warn in 1") && !strings.Contains(l, " warn in 13:")) {
			t.Errorf("pty line %q: want LIMIT 15:00 and NEXT warn in 13:xx or 14:xx", l)
		}
	}
	var bare bytes.Buffer
	if got := run([]string{"sessions", "--policy", "none"}, &bare, &bytes.Buffer{}); got != exitOK || strings.Contains(bare.String(), "LIMIT") {
		t.Errorf("sessions --policy none = %d, want no LIMIT column:\n%s", got, &bare)
	}
}
