package main

// `sshwarden agent --reload PID`, the unit's ExecReload=: the command side
// of the reload state that the agent publishes (see enforcer.StateFile).

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/sshwarden/sshwarden/enforcer"
)

const (
	// defaultRuntimeDir is the unit's RuntimeDirectory=, used when systemd
	// did not say (RUNTIME_DIRECTORY).
	defaultRuntimeDir = "/run/sshwarden"
	// reloadTimeout is how long --reload waits for the agent by default:
	// well under systemd's TimeoutStartSec= (90 s), which bounds ExecReload=.
	reloadTimeout = 30 * time.Second
	reloadPoll    = 20 * time.Millisecond
)

// runtimeDir is systemd's RUNTIME_DIRECTORY (the first, if it lists
// several), or "" when it is not set.
func runtimeDir() string {
	d, _, _ := strings.Cut(os.Getenv("RUNTIME_DIRECTORY"), ":")
	return d
}

// short is the start of a digest, for messages.
func short(d string) string {
	if len(d) > 16 {
		return d[:16]
	}
	return d
}

// runReload is `sshwarden agent --reload PID`: check the policy the agent
// runs, send it SIGHUP, and wait (at most timeout) for its answer.
func (e *env) runReload(pid int, policyName string, timeout time.Duration) int {
	dir := runtimeDir()
	if dir == "" {
		dir = defaultRuntimeDir
	}
	st, err := enforcer.ReadReloadState(dir)
	if err != nil {
		e.errorf("reload state: %v", err)
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(e.stderr, "sshwarden: hint: only an agent started by systemd (sshwarden.service, RuntimeDirectory=sshwarden) writes it, in %s\n", defaultRuntimeDir)
		}
		return exitUsage
	}
	if st.PID != pid {
		e.errorf("the reload state in %s is the agent's with pid %d, not pid %d", dir, st.PID, pid)
		return exitUsage
	}
	if policyName != "" && enforcer.PolicyID(policyName) != st.Policy {
		e.errorf("the agent (pid %d) runs the policy %s, not %s", pid, st.Policy, enforcer.PolicyID(policyName))
		return exitUsage
	}
	// The check, exactly as the agent will load it. A refused policy is
	// still sent to the agent: it records the refusal (once per version
	// of the file) and says which policy stays in force.
	p, read, perr := enforcer.ReadPolicy(e.policies, st.Policy)
	if perr != nil {
		e.policyErrors(perr)
	}
	if read == "" {
		read = enforcer.DigestNone
	}
	before := st.Generation
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		e.errorf("signal the agent (pid %d): %v", pid, err)
		return exitUsage
	}
	deadline := time.Now().Add(timeout)
	for {
		time.Sleep(reloadPoll)
		st, err = enforcer.ReadReloadState(dir)
		if err != nil {
			e.errorf("reload state: %v", err)
			return exitUsage
		}
		if st.PID != pid {
			e.errorf("the agent (pid %d) was replaced by pid %d during the reload", pid, st.PID)
			return exitUsage
		}
		if st.Generation > before && st.Trigger == enforcer.TriggerSIGHUP {
			break
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			e.errorf("the agent (pid %d) exited before it answered the reload", pid)
			return exitUsage
		}
		if time.Now().After(deadline) {
			e.errorf("the agent (pid %d) did not answer the reload within %v", pid, timeout)
			return exitUsage
		}
	}
	if st.Read != read {
		fmt.Fprintf(e.stderr, "sshwarden: hint: %s changed during the reload: the agent read the version with sha256 %s, this command checked %s\n", st.Policy, short(st.Read), short(read))
	}
	switch st.Outcome {
	case enforcer.OutcomeLoaded:
		what := ""
		if p != nil && st.Read == read {
			what = ": " + enforcer.PolicySummary(p)
		}
		fmt.Fprintf(e.stdout, "policy %s reloaded (sha256 %s)%s\n", st.Policy, short(st.InForce), what)
		return exitOK
	case enforcer.OutcomeUnchanged:
		fmt.Fprintf(e.stdout, "policy %s unchanged (sha256 %s): already in force\n", st.Policy, short(st.InForce))
		return exitOK
	default:
		if perr == nil || st.Read != read {
			e.errorf("the agent refused %s: %s", st.Policy, st.Error)
		}
		e.errorf("policy %s not reloaded: the policy in force (sha256 %s) stays", st.Policy, short(st.InForce))
		return exitFindings
	}
}
