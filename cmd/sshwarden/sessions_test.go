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

	type session struct {
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
		SessionID  uint32   `json:"session_id"`
		Command    string   `json:"command"`
	}
	var mine []session
	deadline := time.Now().Add(15 * time.Second)
	for {
		var stdout, stderr bytes.Buffer
		if got := run([]string{"sessions", "--json"}, &stdout, &stderr); got != exitOK {
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

	var table bytes.Buffer
	if got := run([]string{"sessions"}, &table, &bytes.Buffer{}); got != exitOK {
		t.Fatalf("sessions = %d", got)
	}
	if !strings.HasPrefix(table.String(), "USER ") || !strings.Contains(table.String(), pty.TTY) {
		t.Errorf("the table lacks the header or the pty session:\n%s", &table)
	}
}
