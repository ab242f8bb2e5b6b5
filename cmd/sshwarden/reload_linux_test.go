package main

import (
	"bytes"
	"testing"
)

// The usage errors of --reload, before anything is read or signalled.
func TestReloadUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--reload", "0"}, "sshwarden: error: --reload 0: want the agent's pid\n"},
		{[]string{"--reload", "-3"}, "sshwarden: error: --reload -3: want the agent's pid\n"},
		{[]string{"--reload", "1", "--check"}, "sshwarden: error: --check and --reload do not go together\n"},
		{[]string{"--reload", "1", "--timeout", "0s"}, "sshwarden: error: --timeout 0s: want a positive duration\n"},
		{[]string{"--timeout", "5s", "--check"}, "sshwarden: error: --timeout goes with --reload\n"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		if code := run(append([]string{"agent"}, tt.args...), &bytes.Buffer{}, &stderr); code != exitUsage || stderr.String() != tt.want {
			t.Errorf("agent %q: exit %d, stderr %q; want %d, %q", tt.args, code, stderr.String(), exitUsage, tt.want)
		}
	}
}
