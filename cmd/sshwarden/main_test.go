package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sshwarden/sshwarden/policy"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sshwarden": func() {
			// A hook of the test binary alone: the agent tests write the
			// metrics to a temporary folder, which no policy may name.
			var policies policy.Loader
			if dir := os.Getenv("SSHWARDEN_TEST_METRICS_DIR"); dir != "" {
				policies.MetricsDirs = []string{dir}
			}
			os.Exit(runWith(os.Args[1:], os.Stdout, os.Stderr, policies))
		},
	})
}

// TestScripts runs the CLI scripts of testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("TESTDATA", filepath.Join(wd, "..", "..", "testdata"))
			return nil
		},
	})
}

// fixTree makes a --root tree whose sshd_config is text.
func fixTree(t *testing.T, text string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc", "ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "ssh", "sshd_config"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestExitCodes checks the exit codes of the contract: 0 done, 1 the
// configuration is refused, 2 the job could not be done; and fix's 3,
// changes needed (shown, or written with -w).
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(good, []byte("ClientAliveInterval 300\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("ClientAliveInterval 5x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"effective", "-f", good}, exitOK},
		{[]string{"effective", "-f", bad}, exitFindings},
		{[]string{"effective", "-f", filepath.Join(dir, "missing")}, exitUsage},
		{[]string{"effective", "--root", filepath.Join(dir, "nodir")}, exitUsage},
		{[]string{"effective", "-C", "lport=x", "-f", good}, exitUsage},
		{[]string{"effective", "-f", good, "-h"}, exitOK},
		{[]string{"fix", "--root", fixTree(t, "ClientAliveInterval 300\n")}, exitOK},
		{[]string{"fix", "--root", fixTree(t, "ClientAliveInterval 300\n"), "-w"}, exitOK},
		{[]string{"fix", "--root", fixTree(t, "ClientAliveInterval 0\n")}, exitChanged},
		{[]string{"fix", "--root", fixTree(t, "ClientAliveInterval 0\n"), "-w"}, exitChanged},
		{[]string{"fix", "--root", fixTree(t, "ClientAliveInterval 5x\n")}, exitFindings},
		{[]string{"fix", "--root", fixTree(t, "ClientAliveInterval 0\n"), "--policy", filepath.Join(dir, "missing")}, exitUsage},
		{[]string{"fix", "--root", filepath.Join(dir, "nodir")}, exitUsage},
		{[]string{"fix", "--policy", "none"}, exitUsage},
		{[]string{"fix", "--reload"}, exitUsage},
		{[]string{"fix", "extra"}, exitUsage},
		{[]string{"sessions"}, exitOK},
		{[]string{"sessions", "--json", "--policy", "builtin:default"}, exitOK},
		{[]string{"sessions", "--policy", filepath.Join(dir, "missing")}, exitUsage},
		{[]string{"sessions", "--proc", filepath.Join(dir, "noproc")}, exitUsage},
		{[]string{"sessions", "extra"}, exitUsage},
		{[]string{"version"}, exitOK},
		{[]string{"nosuch"}, exitUsage},
		{nil, exitUsage},
	}
	for _, tt := range tests {
		if got := run(tt.args, io.Discard, io.Discard); got != tt.want {
			t.Errorf("run(%q) = %d, want %d", tt.args, got, tt.want)
		}
	}
}
