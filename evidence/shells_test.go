package evidence

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// TestTMOUTAgainstBash reads start-up files with ReadTMOUT and asks the
// real bash, started as an SSH login starts it (bash -lic) with the host's
// own /etc/profile, in a private mount namespace where the test's files
// are /etc/profile.d, /etc/bash.bashrc and /etc/environment: both must
// agree on the TMOUT a login ends with and on whether it is readonly.
func TestTMOUTAgainstBash(t *testing.T) {
	if os.Geteuid() != 0 {
		sshdtest.Missing(t, "needs root for a private mount namespace")
	}
	for _, tool := range []string{"bash", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			sshdtest.Missing(t, tool+" is not installed")
		}
	}
	if _, err := os.Stat("/etc/profile"); err != nil {
		sshdtest.Missing(t, "no /etc/profile: "+err.Error())
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		secs  int // 0: unset or 0
		ro    bool
	}{
		{"nothing", nil, 0, false},
		{"profile.d readonly", map[string]string{"etc/profile.d/tmout.sh": "TMOUT=600\nreadonly TMOUT\nexport TMOUT\n"}, 600, true},
		{"declare -rx", map[string]string{"etc/profile.d/tmout.sh": "declare -rx TMOUT=300 # CIS 5.4.3.2\n"}, 300, true},
		{"readonly assignment in bash.bashrc", map[string]string{"etc/bash.bashrc": "readonly TMOUT=900\n"}, 900, true},
		{"later file wins", map[string]string{"etc/profile.d/10-a.sh": "TMOUT=600\n", "etc/profile.d/20-b.sh": "export TMOUT=120\n"}, 120, false},
		{"profile.d runs after bash.bashrc", map[string]string{"etc/bash.bashrc": "TMOUT=900\n", "etc/profile.d/x.sh": "TMOUT=60\n"}, 60, false},
		{"not a .sh file", map[string]string{"etc/profile.d/tmout": "TMOUT=600\n"}, 0, false},
		{"commented out", map[string]string{"etc/profile.d/t.sh": "# TMOUT=600\n  #readonly TMOUT\n"}, 0, false},
		{"on one line with others", map[string]string{"etc/profile.d/t.sh": "umask 027; TMOUT=450; readonly TMOUT\n"}, 450, true},
		{"quoted", map[string]string{"etc/profile.d/t.sh": "TMOUT=\"700\"\nexport TMOUT\n"}, 700, false},
		{"typeset -r", map[string]string{"etc/profile.d/t.sh": "TMOUT=800\ntypeset -r TMOUT\n"}, 800, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, c.files)
			for _, d := range []string{"etc/profile.d"} {
				if err := os.MkdirAll(dir+"/"+d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{"etc/bash.bashrc", "etc/environment"} {
				if _, err := os.Stat(dir + "/" + f); err != nil {
					if err := os.WriteFile(dir+"/"+f, nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			static := ReadTMOUT(os.DirFS(dir))
			limit, _ := static.Limit()
			if int(limit/time.Second) != c.secs || (static.Readonly != nil) != c.ro {
				t.Errorf("ReadTMOUT: %v, readonly %v; want %ds, readonly %v", limit, static.Readonly, c.secs, c.ro)
			}
			mounts := "set -e; for f in profile.d bash.bashrc environment; do mount --bind " + strconv.Quote(dir) + "/etc/$f /etc/$f; done; exec bash \"$@\""
			real, err := ProbeBash(context.Background(), "unshare", "--mount", "--propagation", "private", "sh", "-c", mounts, "sh")
			if err != nil {
				t.Fatalf("bash: %v", err)
			}
			got := 0
			if real.Set {
				got, _ = strconv.Atoi(real.TMOUT)
			}
			if got != c.secs || real.Readonly != c.ro {
				t.Errorf("real bash: TMOUT %q (set %v), readonly %v; want %d, readonly %v", real.TMOUT, real.Set, real.Readonly, c.secs, c.ro)
			}
		})
	}
}
