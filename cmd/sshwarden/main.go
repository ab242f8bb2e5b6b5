// Command sshwarden makes SSH idle-timeout policy true on a server, and
// provable. This file is wiring only: flags, subcommands and exit codes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/sshwarden/sshwarden/policy"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1 // the configuration is refused, or lint found problems
	exitUsage    = 2 // bad flags, unreadable file: the job could not be done
)

const usage = `sshwarden makes SSH idle-timeout policy true on every server, and provable.

Examples:
  sshwarden lint                               # check /etc/ssh/sshd_config against the policy
  sshwarden lint --root hosts/web1 --format sarif
  sshwarden fix                                # the diff that makes sshd_config meet the policy
  sshwarden fix -w --reload                    # write it (checked by sshd -t), reload sshd
  sshwarden sessions                           # who is logged in over SSH, idle for how long
  sshwarden agent --dry-run --once             # what the agent would do now
  sshwarden report --since 7d                  # what the agent did this week, per user and rule
  sshwarden evidence --profile pci             # what closes idle SSH sessions here, for an auditor
  sshwarden effective                          # what sshd uses, like sshd -T
  sshwarden effective --explain clientaliveinterval
  sshwarden effective -C user=alice,host=h,addr=192.0.2.1,laddr=192.0.2.2,lport=22
  sshwarden effective --root ./hosts/web1 --explain

Commands:
  lint        check sshd_config as sshd reads it, against the OpenSSH traps and the policy
  fix         change sshd_config so that its effective values meet the policy
  sessions    list the live SSH sessions, with their idle time
  agent       the daemon: warn, then close idle sessions; audit to journald
  report      sum up the agent's audit trail: closes, warnings heeded, per user and rule
  evidence    what closes idle SSH sessions here, per kind, with the proof (text, JSON, HTML)
  effective   print the effective sshd configuration for a connection
  version     print the version, and the OpenSSH releases it models
  help        print this help

Run "sshwarden COMMAND -h" for the flags of a command.
`

type command struct {
	name string
	run  func(env *env, args []string) int
}

// env is what a command may touch: its streams and file system view.
type env struct {
	stdout, stderr io.Writer
	policies       policy.Loader // how policies are read: the zero Loader but in tests
	sshd           string        // this host's sshd, whose release is the default: host.DefaultSSHD but in tests
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return runWith(args, stdout, stderr, policy.Loader{}, "")
}

// runWith is run, reading policies with policies, and telling the host's
// release from the sshd binary at sshd ("": host.DefaultSSHD).
func runWith(args []string, stdout, stderr io.Writer, policies policy.Loader, sshd string) int {
	e := &env{stdout: stdout, stderr: stderr, policies: policies, sshd: sshd}
	commands := []command{
		{"lint", runLint},
		{"effective", runEffective},
		{"fix", runFix},
		{"sessions", runSessions},
		{"agent", runAgent},
		{"report", runReport},
		{"evidence", runEvidence},
		{"version", runVersion},
		{"help", func(e *env, _ []string) int { fmt.Fprint(e.stdout, usage); return exitOK }},
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	e.errorf("unknown command %q", args[0])
	fmt.Fprint(stderr, usage)
	return exitUsage
}

func (e *env) errorf(format string, a ...any) {
	fmt.Fprintf(e.stderr, "sshwarden: error: "+format+"\n", a...)
}

// parseFlags parses fs over args, allowing flags after positional
// arguments, and returns the positional arguments. ok is false after a
// usage error (already reported) or -h.
func parseFlags(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, true
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func runVersion(e *env, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if _, code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fmt.Fprintf(e.stdout, "sshwarden %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	writeReleases(e.stdout)
	return exitOK
}
