package main

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// The example workflow for a fleet's config repository, and the fleet
// repository it is tried on.
var (
	workflowFile = filepath.Join("..", "..", "packaging", "github", "sshd-lint.yml")
	fleetRepo    = filepath.Join("..", "..", "testdata", "fleet")
)

// needCmd returns the path of a program the test runs: with CI=true a
// missing one fails the test, elsewhere it skips it.
func needCmd(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " is not installed (Debian package " + pkg + "; make deps installs it)"
	sshdtest.Missing(t, msg)
	return ""
}

// copyFleet copies testdata/fleet into a new folder with the modes a
// checkout under umask 022 has, so that file-permissions findings do not
// depend on the umask of whoever checked this repository out.
func copyFleet(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(fleetRepo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(fleetRepo, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestWorkflowValid checks the example workflow with actionlint (pinned in
// tools/go.mod), which checks the workflow's schema, its expressions and
// permissions, and its run: scripts with shellcheck.
func TestWorkflowValid(t *testing.T) {
	goCmd := needCmd(t, "go", "golang (or /usr/local/go)")
	shellcheck := needCmd(t, "shellcheck", "shellcheck")
	cmd := exec.CommandContext(t.Context(), goCmd, "tool", "-modfile="+filepath.Join("..", "..", "tools", "go.mod"),
		"actionlint", "-shellcheck="+shellcheck, "-no-color", workflowFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint %s: %v\n%s", workflowFile, err, out)
	}
}

// workflowRuns returns the workflow's one-line run: commands that call
// sshwarden lint.
func workflowRuns(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(workflowFile)
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cmd, ok := strings.CutPrefix(line, "run: "); ok && strings.Contains(cmd, "sshwarden lint") {
			runs = append(runs, cmd)
		}
	}
	return runs
}

// TestWorkflowCommands runs the workflow's lint steps as GitHub runs them
// (bash -eo pipefail) on the example fleet repository, and checks what
// GitHub would get: annotations on the right files, and a SARIF file
// valid against the SARIF 2.1.0 schema with the same findings.
func TestWorkflowCommands(t *testing.T) {
	bash := needCmd(t, "bash", "bash")
	bin, err := exec.LookPath("sshwarden") // this test binary, by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	runs := workflowRuns(t)
	if len(runs) != 2 || !strings.Contains(runs[0], "--format github") || !strings.Contains(runs[1], "--format sarif") {
		t.Fatalf("want the workflow's two lint steps (github, then sarif), got %q", runs)
	}
	repo := copyFleet(t)
	step := func(script string) (string, int) {
		cmd := exec.CommandContext(t.Context(), bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s: %v", script, err)
		}
		if s := stderr.String(); s != "" {
			t.Errorf("%s: stderr:\n%s", script, s)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}

	// The annotations step fails the job: web1 and db1 break the policy.
	out, code := step(runs[0])
	if code != exitFindings {
		t.Errorf("%s: exit %d, want %d\n%s", runs[0], code, exitFindings, out)
	}
	annotation := regexp.MustCompile(`^::(error|warning|notice) file=([^,]+),line=(\d+),col=\d+,title=[a-z-]+::.+$`)
	count := map[string]int{} // "severity file:line"
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines {
		m := annotation.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("not an annotation GitHub reads: %q", l)
			continue
		}
		count[m[1]+" "+m[2]+":"+m[3]]++
		if strings.HasPrefix(m[2], "hosts/web2/") && m[1] != "notice" {
			t.Errorf("web2 meets the policy, yet: %s", l)
		}
	}
	for _, want := range []string{
		"error hosts/web1/etc/ssh/sshd_config.d/50-cloud-init.conf:1", // the cloud-init drop-in wins
		"warning hosts/web1/etc/ssh/sshd_config.d/60-cloudimg-settings.conf:1",
		"error hosts/web1/etc/ssh/sshd_config:126", // ClientAliveCountMax 0
		"error hosts/db1/etc/ssh/sshd_config:1",    // PasswordAuthentication left at yes
		"error hosts/db1/etc/ssh/sshd_config:137",  // inside Match Group dba
		"notice hosts/web2/etc/ssh/sshd_config:100",
	} {
		if count[want] == 0 {
			t.Errorf("no annotation %s in\n%s", want, out)
		}
	}

	// The SARIF step succeeds on findings (the first step failed the job
	// already) and writes the same findings for code scanning.
	if out, code := step(runs[1]); code != 0 || out != "" {
		t.Fatalf("%s: exit %d, stdout %q", runs[1], code, out)
	}
	sarif, err := os.ReadFile(filepath.Join(repo, "sshwarden.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, compileSARIFSchema(t), string(sarif))
	_, results := checkSARIF(t, string(sarif))
	hosts := map[string]int{}
	for _, r := range results {
		if len(r.Locations) == 0 || r.Locations[0].PhysicalLocation == nil || r.Locations[0].PhysicalLocation.ArtifactLocation == nil {
			t.Fatalf("a result without a file: %+v", r)
		}
		uri := r.Locations[0].PhysicalLocation.ArtifactLocation.URI
		if !strings.HasPrefix(uri, "hosts/") {
			t.Errorf("artifact %q: want a path relative to the repository", uri)
		}
		hosts[strings.Split(uri, "/")[1]]++
	}
	if len(results) != len(lines) || hosts["db1"] == 0 || hosts["web1"] == 0 || hosts["web2"] == 0 {
		t.Errorf("SARIF has %d results %v, the annotations %d", len(results), hosts, len(lines))
	}
}

// TestPreCommitHook runs the sshwarden-lint-roots hook of
// .pre-commit-hooks.yaml with the real pre-commit (Debian's package) on a
// git repository of the example fleet: pre-commit builds sshwarden from
// this repository (language: golang) and runs it over the trees of
// roots.txt.
func TestPreCommitHook(t *testing.T) {
	preCommit := needCmd(t, "pre-commit", "pre-commit")
	git := needCmd(t, "git", "git")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		t.Skip("this source tree is not a git checkout, which pre-commit needs")
	}
	repo := copyFleet(t)
	// pre-commit builds the hook with GOPATH in its own store; the module
	// cache of this machine spares it the downloads.
	modCache, err := exec.CommandContext(t.Context(), needCmd(t, "go", "golang"), "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOMODCACHE="+strings.TrimSpace(string(modCache)), "PRE_COMMIT_HOME="+t.TempDir(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "hosts"}} {
		cmd := exec.CommandContext(t.Context(), git, args...)
		cmd.Dir, cmd.Env = repo, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", args, err, out)
		}
	}
	cmd := exec.CommandContext(t.Context(), preCommit, "try-repo", root, "sshwarden-lint-roots", "--all-files", "--verbose", "--color=never")
	cmd.Dir, cmd.Env = repo, env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("pre-commit try-repo: %v, want exit 1 (findings)\n%s", err, out)
	}
	// Without --policy the hook checks the traps and builtin:default (or
	// this host's policy file): web1's ClientAliveCountMax 0 and db1's
	// Match block break either.
	for _, want := range []string{
		"sshwarden lint (every host tree listed in roots.txt)",
		"hosts/web1/etc/ssh/sshd_config:126:21: warning: ClientAliveCountMax 0 disables",
		"hosts/db1/etc/ssh/sshd_config:137:22: error: ClientAliveInterval 3600 is above the policy's limit of 300",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pre-commit output lacks %q:\n%s", want, out)
		}
	}
}
