package packaging_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// The Ansible role of packaging/ansible, run by Debian's ansible-playbook
// against this host (connection: local) with the .deb that `make package`
// builds. The role's sshd_config is a copy of a stock tree in a temporary
// folder, read and fixed through `sshwarden fix --root`: the test never
// touches /etc/ssh, port 22 or a running sshd.
const (
	ansibleRoles = "ansible/roles"
	ansibleSite  = "ansible/site.yml"
	// The tree: an Ubuntu cloud image whose cloud-init drop-in turns
	// password logins back on, which the policy below forbids.
	ansibleTree = "../testdata/hosts/ubuntu-cloud-init"
	cloudInit   = "etc/ssh/sshd_config.d/50-cloud-init.conf"
)

// ansibleVars are the role's variables for the test (YAML); its %s are the
// package file, the sshd_config tree, IdleTimeout and
// ClientAliveCountMax. The global keywords are not in sorted order, so
// that the policy file shows the order is kept. No sshd is reloaded, and
// the agent is not left running where systemd runs (here and in CI it
// does not: the role then only enables the unit).
const ansibleVars = `sshwarden_package_file: %s
sshwarden_sshd_root: %s
sshwarden_openssh: 8.9-debian
sshwarden_sshd_reload: false
sshwarden_service_state: stopped
sshwarden_policy:
  IdleTimeout: %s
  WarnBefore: 1m
  MaxSessionTime: 0
  ClientAliveInterval: 300
  ClientAliveCountMax: %s
  PasswordAuthentication: false
  WarnMessage: "Idle for %%i: this session closes in %%l."
sshwarden_policy_match:
  - criteria: Group admins
    keywords:
      IdleTimeout: 1h
  - criteria: Address 10.0.0.0/8,192.168.0.0/16
    keywords:
      IdleTimeout: 30m
      WarnBefore: 5m
  - criteria: User backup
    keywords:
      Exempt: true
`

// wantPolicy is the policy the role must write from ansibleVars.
const wantPolicy = `# Ansible managed: the sshwarden role writes this file from
# sshwarden_policy and sshwarden_policy_match. See sshwarden-policy(5).
IdleTimeout 15m
WarnBefore 1m
MaxSessionTime 0
ClientAliveInterval 300
ClientAliveCountMax 3
PasswordAuthentication no
WarnMessage Idle for %i: this session closes in %l.

Match Group admins
    IdleTimeout 1h

Match Address 10.0.0.0/8,192.168.0.0/16
    IdleTimeout 30m
    WarnBefore 5m

Match User backup
    Exempt yes
`

const ansiblePlaybook = `- name: sshwarden on this host
  hosts: localhost
  gather_facts: false
  roles:
    - sshwarden
`

// needAnsible fails (CI=true) or skips without ansible-playbook, or
// without python3-apt for the /usr/bin/python3 that Debian's Ansible runs
// (its apt module needs it).
func needAnsible(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ansible-playbook")
	var missing []string
	if err != nil {
		missing = append(missing, "ansible-playbook")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import apt").Run(); err != nil {
		missing = append(missing, "python3-apt for /usr/bin/python3")
	}
	if len(missing) == 0 {
		return p
	}
	msg := "the Ansible role test needs " + strings.Join(missing, " and ") + " (apt-get install --no-install-recommends ansible-core python3-apt)"
	sshdtest.Missing(t, msg)
	return ""
}

// recap holds the counts of the PLAY RECAP line of the default callback
// for localhost that the test looks at.
type recap struct{ changed, unreachable, failed int }

var recapLine = regexp.MustCompile(`(?m)^localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=\d+\s+rescued=\d+\s+ignored=\d+`)

func parseRecap(out string) (recap, bool) {
	m := recapLine.FindStringSubmatch(out)
	if m == nil {
		return recap{}, false
	}
	var n [3]int
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return recap{changed: n[0], unreachable: n[1], failed: n[2]}, true
}

var taskLine = regexp.MustCompile(`(?m)^TASK \[sshwarden : (.*)\] \*+\n(?:.*\n)*?(ok|changed|skipping|fatal|failed): \[localhost\]`)

// taskStatus returns the status the default callback printed for the
// role's task (ok, changed, skipping, fatal), or "" when it did not run.
func taskStatus(out, task string) string {
	for _, m := range taskLine.FindAllStringSubmatch(out, -1) {
		if m[1] == task {
			return m[2]
		}
	}
	return ""
}

// ansibleRun is one ansible-playbook run of the test.
type ansibleRun struct {
	name  string
	out   string
	err   error
	recap recap
	took  time.Duration
}

// Names of the role's tasks that the test looks at.
const (
	taskInstallDeb  = "Install sshwarden from the .deb"
	taskPolicy      = "Write the policy"
	taskShowPolicy  = "Show the policy that would be written (check mode, not installed yet)"
	taskFixCheck    = "Check sshd_config against the policy (sshwarden fix, writes nothing)"
	taskShowFix     = "Show the change to sshd_config"
	taskFixWrite    = "Fix sshd_config (sshwarden fix -w)"
	taskEnable      = "Enable the sshwarden service"
	taskStart       = "Start the sshwarden service"
	taskRemoveStage = "Remove the staging folder"
)

// wantTasks checks the status of each of the role's tasks in the run's
// output.
func (r *ansibleRun) wantTasks(t *testing.T, want map[string]string) {
	t.Helper()
	for task, w := range want {
		if got := taskStatus(r.out, task); got != w {
			t.Errorf("ansible-playbook %s: task %q: %q, want %q", r.name, task, got, w)
		}
	}
}

// treeState is every file under dir: its mode, and the SHA-256 of its
// content (or its link target).
func treeState(t *testing.T, dir string) map[string]string {
	t.Helper()
	state := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		v := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			v += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		state[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return state
}

func sameState(a, b map[string]string) []string {
	var diffs []string
	for p, v := range a {
		if b[p] != v {
			diffs = append(diffs, fmt.Sprintf("%s: %q, then %q", p, v, b[p]))
		}
	}
	for p, v := range b {
		if _, ok := a[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: new, %q", p, v))
		}
	}
	return diffs
}

// stagingDirs are the role's staging folders left in the temporary folder
// (the role removes them, also when a run fails).
func stagingDirs() []string {
	m, _ := filepath.Glob(filepath.Join(os.TempDir(), "ansible.*.sshwarden"))
	return m
}

// TestAnsibleRole runs the role as an admin would: --check --diff on a
// fresh host changes nothing; a real run installs the package, writes the
// policy, fixes sshd_config and enables the unit; a second run changes
// nothing; a broken policy fails at the template's validate step and
// leaves the policy in place; a unit an admin disabled is enabled again.
// It installs on this host, so it refuses to run where sshwarden is
// installed, and it purges what it installed.
func TestAnsibleRole(t *testing.T) {
	need(t)
	playbook := needAnsible(t)
	if _, err := try("dpkg", "-s", "sshwarden"); err == nil || exists(bin) || exists(policy) || exists("/etc/sshwarden") {
		t.Fatalf("sshwarden is installed on this host (%s or /etc/sshwarden exists, or dpkg knows it): the Ansible test installs and purges it, so it refuses to run here", bin)
	}
	etcSSH := treeState(t, "/etc/ssh")
	var runs []*ansibleRun
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range runs {
				t.Logf("ansible-playbook %s: %v\n%s", r.name, r.err, r.out)
			}
		}
		if _, err := try("dpkg", "-s", "sshwarden"); err == nil {
			if out, err := try("dpkg", "-P", "sshwarden"); err != nil {
				t.Errorf("cleanup: dpkg -P sshwarden: %v\n%s", err, out)
			}
		}
		if err := os.RemoveAll("/etc/sshwarden"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, p := range []string{bin, wantsLink, "/etc/systemd/system/sshwarden.service", "/var/lib/systemd/deb-systemd-helper-enabled/sshwarden.service.dsh-also"} {
			if exists(p) {
				t.Errorf("after dpkg -P, %s is still there", p)
			}
		}
		if d := sameState(etcSSH, treeState(t, "/etc/ssh")); len(d) > 0 {
			t.Errorf("/etc/ssh changed:\n%s", strings.Join(d, "\n"))
		}
	})
	if d := stagingDirs(); len(d) > 0 {
		t.Logf("staging folders of an earlier run are left in %s: %v", os.TempDir(), d)
	}
	stagingBefore := len(stagingDirs())

	start := time.Now()
	const version = "v0.1.1"
	pkgs := build(t, version, runtime.GOARCH)
	deb := pkgs[fmt.Sprintf("sshwarden_%s_%s.deb", pkgVersion(t, version), runtime.GOARCH)]
	if deb == "" {
		t.Fatalf("make package did not print the deb: %v", pkgs)
	}
	t.Logf("make package: %v", time.Since(start).Round(100*time.Millisecond))

	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	if err := os.CopyFS(tree, os.DirFS(ansibleTree)); err != nil {
		t.Fatal(err)
	}
	roles, err := filepath.Abs(ansibleRoles)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"inventory":    "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
		"play.yml":     ansiblePlaybook,
		"vars.yml":     fmt.Sprintf(ansibleVars, strconv.Quote(deb), strconv.Quote(tree), "15m", "3"),
		"broken.yml":   fmt.Sprintf(ansibleVars, strconv.Quote(deb), strconv.Quote(tree), "soon", "3"),
		"next.yml":     fmt.Sprintf(ansibleVars, strconv.Quote(deb), strconv.Quote(tree), "20m", "1"),
		"ansible.cfg":  "[defaults]\nstdout_callback = default\nretry_files_enabled = false\n",
		"home/.keep":   "",
		"tmp/.keep":    "",
		"remote/.keep": "",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(),
		"ANSIBLE_CONFIG="+filepath.Join(dir, "ansible.cfg"),
		"ANSIBLE_ROLES_PATH="+roles,
		"ANSIBLE_HOME="+filepath.Join(dir, "home"),
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(dir, "remote"),
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_FORCE_COLOR=0",
		"LC_ALL=C.UTF-8",
		"DEBIAN_FRONTEND=noninteractive",
	)
	ansible := func(name string, args ...string) *ansibleRun {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, playbook, append([]string{"-i", "inventory"}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		began := time.Now()
		out, err := cmd.CombinedOutput()
		r := &ansibleRun{name: name, out: string(out), err: err, took: time.Since(began)}
		runs = append(runs, r)
		rc, ok := parseRecap(r.out)
		if !ok {
			t.Fatalf("ansible-playbook %s: %v; no PLAY RECAP line for localhost", name, err)
		}
		r.recap = rc
		if rc.unreachable != 0 {
			t.Fatalf("ansible-playbook %s: localhost unreachable (connection: local)", name)
		}
		recapText := recapLine.FindString(r.out)
		t.Logf("ansible-playbook %s (%v): %s", name, r.took.Round(100*time.Millisecond), strings.Join(strings.Fields(recapText), " "))
		if n := len(stagingDirs()); n > stagingBefore {
			t.Errorf("ansible-playbook %s left its staging folder: %v", name, stagingDirs())
		}
		return r
	}
	treeBefore := treeState(t, tree)

	// 0. --check --diff on a host without sshwarden: changes reported,
	// none made.
	r := ansible("--check --diff", "--check", "--diff", "-e", "@vars.yml", "play.yml")
	if r.err != nil || r.recap.changed == 0 || r.recap.failed != 0 {
		t.Fatalf("ansible-playbook --check --diff: %v, %+v; want success with changes", r.err, r.recap)
	}
	if _, err := try("dpkg", "-s", "sshwarden"); err == nil || exists(bin) || exists("/etc/sshwarden") || exists(wantsLink) {
		t.Errorf("ansible-playbook --check installed sshwarden (dpkg -s, %s, /etc/sshwarden or %s)", bin, wantsLink)
	}
	if d := sameState(treeBefore, treeState(t, tree)); len(d) > 0 {
		t.Errorf("ansible-playbook --check changed the sshd_config tree:\n%s", strings.Join(d, "\n"))
	}
	// With nothing installed yet, check mode shows the policy it would
	// write, and skips what needs the binary or the unit.
	r.wantTasks(t, map[string]string{
		taskInstallDeb: "changed", taskPolicy: "skipping", taskShowPolicy: "ok",
		taskFixCheck: "skipping", taskFixWrite: "skipping", taskEnable: "skipping",
		taskStart: "skipping", taskRemoveStage: "ok",
	})
	if !strings.Contains(r.out, `"Match Address 10.0.0.0/8,192.168.0.0/16",`) {
		t.Errorf("ansible-playbook --check did not show the policy it would write")
	}

	// 1. The real run.
	r = ansible("--diff", "--diff", "-e", "@vars.yml", "play.yml")
	if r.err != nil || r.recap.changed == 0 || r.recap.failed != 0 {
		t.Fatalf("ansible-playbook: %v, %+v; want success with changes", r.err, r.recap)
	}
	if out, err := try("dpkg-query", "-W", "-f", "${Status} ${Version}", "sshwarden"); err != nil || out != "install ok installed "+pkgVersion(t, version)+"-1" {
		t.Errorf("after the run, dpkg-query -W sshwarden = %q, %v", out, err)
	}
	b, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != wantPolicy {
		t.Errorf("%s:\n%s\nwant:\n%s", policy, b, wantPolicy)
	}
	fi, err := os.Stat(policy)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode() != 0o644 || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("%s: mode %v, owner %d:%d; want -rw-r--r-- root:root", policy, fi.Mode(), st.Uid, st.Gid)
	}
	if target, err := os.Readlink(wantsLink); err != nil || target != debUnit {
		t.Errorf("the unit is not enabled: %s -> %q (%v), want %s", wantsLink, target, err, debUnit)
	}
	// The fix check found the change and showed its diff, fix -w made it,
	// and the tree now meets the policy. The package's postinst had
	// enabled the unit already; no systemd runs to start it.
	r.wantTasks(t, map[string]string{
		taskInstallDeb: "changed", taskPolicy: "changed", taskShowPolicy: "skipping",
		taskFixCheck: "changed", taskShowFix: "ok", taskFixWrite: "changed",
		taskEnable: "ok", taskStart: "skipping",
	})
	for _, s := range []string{`"-PasswordAuthentication yes",`, `"+PasswordAuthentication no",`} {
		if !strings.Contains(r.out, s) {
			t.Errorf("the run's output lacks %q", s)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(tree, cloudInit)); string(b) != "PasswordAuthentication no\n" {
		t.Errorf("%s after the run: %q, want the policy's PasswordAuthentication no", cloudInit, b)
	}
	if out, err := try(bin, "effective", "--root", tree, "--openssh", "8.9-debian", "passwordauthentication", "clientaliveinterval", "clientalivecountmax"); err != nil || out != "clientaliveinterval 300\nclientalivecountmax 2\npasswordauthentication no\n" {
		t.Errorf("sshwarden effective on the fixed tree: %v\n%s", err, out)
	}
	out, _ := try(bin, "lint", "--format", "json", "--policy", policy, "--root", tree, "--openssh", "8.9-debian")
	var lint struct {
		Findings []struct{ Check, Severity, File, Message string }
	}
	if err := json.Unmarshal([]byte(out), &lint); err != nil {
		t.Fatalf("sshwarden lint --format json: %v\n%s", err, out)
	}
	for _, f := range lint.Findings {
		if f.Check == "policy" || f.Severity == "error" {
			t.Errorf("after the run, lint still finds %s: %s: %s", f.Check, f.File, f.Message)
		}
	}
	if out, err := try(bin, "fix", "--policy", policy, "--root", tree, "--openssh", "8.9-debian"); err != nil {
		t.Errorf("sshwarden fix on the fixed tree: %v, want exit 0 (nothing to change)\n%s", err, out)
	}
	treeFixed := treeState(t, tree)
	policyFixed := treeState(t, "/etc/sshwarden")

	// 2. Again: no change, not even a rewrite with the same bytes.
	r = ansible("again", "--diff", "-e", "@vars.yml", "play.yml")
	if r.err != nil || r.recap.changed != 0 || r.recap.failed != 0 {
		t.Errorf("the second ansible-playbook run: %v, %+v; want changed=0 failed=0", r.err, r.recap)
	}
	r.wantTasks(t, map[string]string{
		taskInstallDeb: "ok", taskPolicy: "ok", taskFixCheck: "ok", taskShowFix: "skipping",
		taskFixWrite: "skipping", taskEnable: "ok",
	})
	if d := sameState(treeFixed, treeState(t, tree)); len(d) > 0 {
		t.Errorf("the second run changed the sshd_config tree:\n%s", strings.Join(d, "\n"))
	}
	if d := sameState(policyFixed, treeState(t, "/etc/sshwarden")); len(d) > 0 {
		t.Errorf("the second run changed /etc/sshwarden:\n%s", strings.Join(d, "\n"))
	}
	var ino uint64
	if fi, err := os.Stat(policy); err == nil {
		ino = fi.Sys().(*syscall.Stat_t).Ino
	}

	// 3. A policy sshwarden refuses: the template's validate step fails
	// and the policy in place stays, byte for byte and the same file.
	// (--tags sshwarden_policy: the policy's steps only, to save the apt
	// step's seconds.)
	r = ansible("with a broken policy", "--tags", "sshwarden_policy", "-e", "@broken.yml", "play.yml")
	if r.err == nil || r.recap.failed != 1 {
		t.Errorf("ansible-playbook with IdleTimeout soon: %v, %+v; want it to fail", r.err, r.recap)
	}
	r.wantTasks(t, map[string]string{taskPolicy: "fatal", taskRemoveStage: "ok"})
	for _, s := range []string{"failed to validate", `IdleTimeout: invalid time \"soon\"`} {
		if !strings.Contains(r.out, s) {
			t.Errorf("the broken run's output lacks %q", s)
		}
	}
	if b, _ := os.ReadFile(policy); string(b) != wantPolicy {
		t.Errorf("the broken policy replaced %s:\n%s", policy, b)
	}
	if fi, err := os.Stat(policy); err != nil || fi.Sys().(*syscall.Stat_t).Ino != ino {
		t.Errorf("the broken run replaced %s (%v)", policy, err)
	}
	if d := sameState(treeFixed, treeState(t, tree)); len(d) > 0 {
		t.Errorf("the broken run changed the sshd_config tree:\n%s", strings.Join(d, "\n"))
	}

	// 4. An admin disabled the unit, and the next policy is on its way:
	// --check --diff on the installed host shows the new policy, the fix
	// it leads to (fix checks against the new policy, rendered in the
	// staging folder) and the unit to enable, and changes none of them.
	run(t, "systemctl", "disable", "sshwarden.service")
	if exists(wantsLink) {
		t.Fatalf("systemctl disable left %s", wantsLink)
	}
	r = ansible("--check --diff with the next policy", "--check", "--diff", "-e", "@next.yml", "play.yml")
	if r.err != nil || r.recap.changed != 3 || r.recap.failed != 0 {
		t.Errorf("ansible-playbook --check --diff with the next policy: %v, %+v; want changed=3 (policy, fix check, enable)", r.err, r.recap)
	}
	for _, s := range []string{
		"-IdleTimeout 15m\n+IdleTimeout 20m\n",
		`"-ClientAliveCountMax 2",`,
		`"+ClientAliveCountMax 1",`,
	} {
		if !strings.Contains(r.out, s) {
			t.Errorf("the check run with the next policy lacks %q", s)
		}
	}
	r.wantTasks(t, map[string]string{
		taskInstallDeb: "ok", taskPolicy: "changed", taskFixCheck: "changed", taskShowFix: "ok",
		taskFixWrite: "skipping", taskEnable: "changed",
	})
	if d := sameState(policyFixed, treeState(t, "/etc/sshwarden")); len(d) > 0 {
		t.Errorf("the check run changed /etc/sshwarden:\n%s", strings.Join(d, "\n"))
	}
	if d := sameState(treeFixed, treeState(t, tree)); len(d) > 0 {
		t.Errorf("the check run changed the sshd_config tree:\n%s", strings.Join(d, "\n"))
	}
	if exists(wantsLink) {
		t.Errorf("the check run enabled the unit (%s)", wantsLink)
	}

	// 5. The role enables the unit again, where no systemd runs too
	// (systemctl enable only makes the links).
	r = ansible("--tags sshwarden_service", "--tags", "sshwarden_service", "-e", "@vars.yml", "play.yml")
	if r.err != nil || r.recap.changed != 1 || r.recap.failed != 0 {
		t.Errorf("ansible-playbook --tags sshwarden_service on a disabled unit: %v, %+v; want changed=1", r.err, r.recap)
	}
	if target, err := os.Readlink(wantsLink); err != nil || target != debUnit {
		t.Errorf("the role did not enable the unit again: %s -> %q (%v)", wantsLink, target, err)
	}

	// The example playbook parses, with the role beside it.
	syntax := exec.Command(playbook, "--syntax-check", ansibleSite)
	syntax.Env = env
	if out, err := syntax.CombinedOutput(); err != nil {
		t.Errorf("ansible-playbook --syntax-check %s: %v\n%s", ansibleSite, err, out)
	}
	t.Logf("ansible runs and checks: %v", time.Since(start).Round(100*time.Millisecond))
	if t.Failed() {
		return
	}
	// The check step's output, for the log: what the fix task showed.
	if i := strings.Index(runs[1].out, "TASK [sshwarden : "+taskShowFix+"]"); i >= 0 {
		excerpt := runs[1].out[i:]
		if j := strings.Index(excerpt, "\nTASK [sshwarden : Fix"); j >= 0 {
			excerpt = excerpt[:j]
		}
		t.Logf("the fix check in the real run:\n%s", strings.TrimSpace(excerpt))
	}
}
