package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sshwarden/sshwarden/policy"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sshwarden": func() {
			// Hooks of the test binary alone: the agent tests write the
			// metrics to a temporary folder, which no policy may name;
			// scripts stand a fake sshd in for the host's, whose release
			// lint and effective read on the host.
			var policies policy.Loader
			if dir := os.Getenv("SSHWARDEN_TEST_METRICS_DIR"); dir != "" {
				policies.MetricsDirs = []string{dir}
			}
			os.Exit(runWith(os.Args[1:], os.Stdout, os.Stderr, policies, os.Getenv("SSHWARDEN_TEST_SSHD")))
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status": cmdStatus,
		},
	})
}

// cmdStatus is the script command "status N PROGRAM [ARG...]": it runs
// PROGRAM as exec does (its output is then stdout and stderr) and checks
// that it exits with status N, where "! exec" only tells failure.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status %q: not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// TestSessionsExitCodes checks the exit codes of sessions (the other
// commands' are in testdata/script/exit_codes.txtar): 0 done, 2 the job
// could not be done.
func TestSessionsExitCodes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"sessions"}, exitOK},
		{[]string{"sessions", "--json", "--policy", "builtin:default"}, exitOK},
		{[]string{"sessions", "--policy", filepath.Join(dir, "missing")}, exitUsage},
		{[]string{"sessions", "--proc", filepath.Join(dir, "noproc")}, exitUsage},
		{[]string{"sessions", "extra"}, exitUsage},
	}
	for _, tt := range tests {
		if got := run(tt.args, io.Discard, io.Discard); got != tt.want {
			t.Errorf("run(%q) = %d, want %d", tt.args, got, tt.want)
		}
	}
}
