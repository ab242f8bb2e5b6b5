package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"
	"strings"
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/evidence"
	"github.com/sshwarden/sshwarden/internal/host"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
)

const evidenceUsage = `usage: sshwarden evidence [-f FILE] [--root DIR] [--openssh VERSION] [--policy P] [--profile pci|cis|stig]
                          [--since TIME] [--format text|json|html] [-o FILE]
                          [--input FILE|-]

Tells what closes an idle SSH session on this host, per kind of session
(pty, command and sftp, ssh -N, root logins): the sshwarden agent (its
policy, whether systemd runs it), sshd (ChannelTimeout, in Match blocks
too, UnusedConnectionTimeout, ClientAlive*), systemd-logind
(StopIdleSessionSec=) and the shells (TMOUT), each with the file and line
that set it and which acts first; judges the controls of a profile on it;
and sums up the agent's audit trail since TIME (default 30 days), with the
periods the agent did not run. HTML is one self-contained page for an
auditor (no script, no fetch), printable on A4.

With --root DIR the files are read from the tree, and the service state
and the journal are not asked (the trail comes from --input, if any).

Exit status: 0 when every kind of session the profile covers (every kind,
without a profile) is closed within its limit, 1 when not, 2 when it
cannot tell (nothing could be read, bad flags).

Examples:
  sshwarden evidence --profile pci
  sshwarden evidence --profile stig --format html -o /tmp/evidence.html

Flags:
`

func runEvidence(e *env, args []string) int {
	fs := flag.NewFlagSet("evidence", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, evidenceUsage); fs.PrintDefaults() }
	var cf configFlags
	cf.register(fs)
	policyName := fs.String("policy", "/etc/sshwarden/policy.conf", "the agent's policy `FILE` (or builtin:NAME)")
	profile := fs.String("profile", "", "judge the controls of `NAME`: "+strings.Join(evidence.ProfileNames(), ", "))
	since := fs.String("since", "30d", "sum up the audit trail from `TIME` on")
	format := fs.String("format", "text", "output `format`: text, json or html")
	out := fs.String("o", "", "write to `FILE` (atomically) instead of standard output")
	input := fs.String("input", "", "read the audit trail from `FILE` (JSON lines; - for standard input) instead of the journal")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		e.errorf("evidence takes no arguments: %q", rest)
		return exitUsage
	}
	var prof *evidence.Profile
	if *profile != "" {
		if prof = evidence.LookupProfile(*profile); prof == nil {
			e.errorf("--profile %s: unknown (known: %s)", *profile, strings.Join(evidence.ProfileNames(), ", "))
			return exitUsage
		}
	}
	switch *format {
	case "text", "json", "html":
	default:
		e.errorf("--format %s: want text, json or html", *format)
		return exitUsage
	}
	now := time.Now()
	from, err := parseWhen(*since, now)
	if err != nil {
		e.errorf("--since: %v", err)
		return exitUsage
	}
	ctx := context.Background()

	src := evidence.Sources{Profile: prof, Now: now, TrailSince: from}
	var fsys iofs.FS = sshdconf.DirFS("/")
	if cf.root != "" {
		r, err := sshdconf.OpenRoot(cf.root)
		if err != nil {
			e.errorf("%v", rootError(cf.root, err))
			return exitUsage
		}
		defer r.Close()
		fsys = r
	}
	src.FS = fsys
	cf.resolve(e)
	cfg, _, err := cf.load()
	src.SSHD, src.SSHDErr = cfg, err
	src.Policy, src.PolicyErr = readPolicy(fsys, *policyName)
	src.Host, _ = os.Hostname()
	src.OS = osName(fsys)
	if cf.root == "" {
		src.Service = evidence.ReadService(ctx, "sshwarden.service")
		src.Logind = evidence.LogindRunning(ctx)
	} else {
		src.Host = cf.root
	}
	if *input != "" || cf.root == "" {
		src.Trail, src.TrailErr = e.readTrail(*input, audit.ReportOptions{Since: from}, audit.JournalQuery{})
	}
	rep := evidence.Build(src)

	var buf bytes.Buffer
	switch *format {
	case "json":
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	case "html":
		err = rep.WriteHTML(&buf)
	default:
		err = rep.WriteText(&buf)
	}
	if err == nil {
		if *out != "" {
			err = host.WriteFile(*out, buf.Bytes(), 0o644)
		} else {
			_, err = e.stdout.Write(buf.Bytes())
		}
	}
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	switch {
	case !rep.Told:
		e.errorf("could not tell: %s", strings.Join(rep.Problems, "; "))
		return exitUsage
	case !rep.OK:
		return 1
	}
	return 0
}

// readPolicy reads the agent's policy from fsys (a builtin:NAME from the
// binary); a policy file that is not there is no error: no agent is
// configured.
func readPolicy(fsys iofs.FS, name string) (*policy.Policy, error) {
	if strings.HasPrefix(name, "builtin:") {
		return policy.Load(name)
	}
	b, err := iofs.ReadFile(fsys, strings.TrimPrefix(name, "/"))
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return policy.Parse(name, b)
}

// osName is PRETTY_NAME of /etc/os-release in fsys.
func osName(fsys iofs.FS) string {
	b, err := iofs.ReadFile(fsys, "etc/os-release")
	if err != nil {
		return "unknown OS"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return "unknown OS"
}
