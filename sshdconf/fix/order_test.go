package fix

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// orderConfig is a configuration of a main file and three drop-ins, and
// changes to all of them that sshd accepts in any mix.
func orderConfig(t *testing.T) (*sshdconf.Config, []FileChange) {
	t.Helper()
	files := map[string][]byte{
		"/etc/ssh/sshd_config":             []byte("Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 0\n"),
		"/etc/ssh/sshd_config.d/10-a.conf": []byte("MaxAuthTries 6\n"),
		"/etc/ssh/sshd_config.d/20-b.conf": []byte("X11Forwarding yes\n"),
		"/etc/ssh/sshd_config.d/30-c.conf": []byte("PermitTTY yes\n"),
	}
	c, err := sshdconf.Load(memfs.New(files), "/etc/ssh/sshd_config", nil)
	if err != nil {
		t.Fatal(err)
	}
	var changes []FileChange
	for _, f := range c.Files {
		changes = append(changes, FileChange{Name: f.Name, Old: f.Bytes(), New: append(f.Bytes(), "# changed\n"...)})
	}
	return c, changes
}

// fakeCheck refuses the intermediate states whose new files are exactly
// one of refuse (names joined by ","), records every state it is asked
// about, and fails with fail when set.
type fakeCheck struct {
	refuse []string
	asked  []string
	fail   error
}

func (f *fakeCheck) check(changes []FileChange) error {
	var names []string
	for _, fc := range changes {
		names = append(names, fc.Name[strings.LastIndex(fc.Name, "/")+1:])
	}
	key := strings.Join(names, ",")
	f.asked = append(f.asked, key)
	if f.fail != nil {
		return f.fail
	}
	if slices.Contains(f.refuse, key) {
		return &SSHDRefused{Output: "refused " + key}
	}
	return nil
}

func orderNames(files []FileChange) []string {
	var out []string
	for _, fc := range files {
		out = append(out, fc.Name[strings.LastIndex(fc.Name, "/")+1:])
	}
	return out
}

func TestOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		refuse    []string
		fail      error
		want      []string // the order
		wantAsked []string // the states checked, in order
		wantErr   string
	}{
		{
			name:      "reading order when every state is accepted",
			want:      []string{"sshd_config", "10-a.conf", "20-b.conf", "30-c.conf"},
			wantAsked: []string{"sshd_config", "sshd_config,10-a.conf", "sshd_config,10-a.conf,20-b.conf"},
		},
		{
			name:      "another file first when the first alone is refused",
			refuse:    []string{"sshd_config"},
			want:      []string{"10-a.conf", "sshd_config", "20-b.conf", "30-c.conf"},
			wantAsked: []string{"sshd_config", "10-a.conf", "sshd_config,10-a.conf", "sshd_config,10-a.conf,20-b.conf"},
		},
		{
			name:   "back from a dead end",
			refuse: []string{"sshd_config,10-a.conf,20-b.conf", "sshd_config,10-a.conf,30-c.conf", "sshd_config,20-b.conf"},
			want:   []string{"sshd_config", "30-c.conf", "20-b.conf", "10-a.conf"},
		},
		{
			name:    "no order",
			refuse:  []string{"sshd_config", "10-a.conf", "20-b.conf", "30-c.conf"},
			wantErr: "no order of writing /etc/ssh/sshd_config, /etc/ssh/sshd_config.d/10-a.conf, /etc/ssh/sshd_config.d/20-b.conf, /etc/ssh/sshd_config.d/30-c.conf keeps a configuration that sshd accepts after each file, so a crash between two files could leave one it refuses; put the lines that depend on each other into one file (with only /etc/ssh/sshd_config new: sshd -t refuses it: refused sshd_config)",
		},
		{
			name:    "a check that cannot run stops it",
			fail:    errors.New("no namespace"),
			wantErr: "no namespace",
		},
		{
			name:      "sshd not installed: the model decides",
			fail:      ErrNoSSHD,
			want:      []string{"sshd_config", "10-a.conf", "20-b.conf", "30-c.conf"},
			wantAsked: []string{"sshd_config", "sshd_config,10-a.conf", "sshd_config,10-a.conf,20-b.conf"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, changes := orderConfig(t)
			f := &fakeCheck{refuse: tt.refuse, fail: tt.fail}
			got, err := Order(c, changes, f.check)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("Order() error = %q, want %q", gotErr, tt.wantErr)
			}
			if tt.wantErr != "" {
				return
			}
			if !slices.Equal(orderNames(got), tt.want) {
				t.Errorf("Order() = %q, want %q", orderNames(got), tt.want)
			}
			if tt.wantAsked != nil && !slices.Equal(f.asked, tt.wantAsked) {
				t.Errorf("checked %q, want %q", f.asked, tt.wantAsked)
			}
			seen := map[string]bool{}
			for _, a := range f.asked {
				if seen[a] {
					t.Errorf("state %q checked twice", a)
				}
				seen[a] = true
			}
		})
	}
}

// ccMain and ccDrop are the files of the plans of two files.
const (
	ccMain = "/etc/ssh/sshd_config"
	ccDrop = "/etc/ssh/sshd_config.d/10-site.conf"
)

// TestOrderModel: with no check, the sshdconf model alone refuses a plan
// with no order (internal/host's TestOrderModelCases has it order the
// interdependent cases).
func TestOrderModel(t *testing.T) {
	t.Parallel()
	// The Subsystem moves one way and AuthorizedKeysCommandUser the other:
	// each file needs the other new.
	main := "Include /etc/ssh/sshd_config.d/*.conf\nSubsystem sftp internal-sftp\n"
	drop := "MaxAuthTries 3\n"
	cfg, err := sshdconf.Load(memfs.New(map[string][]byte{ccMain: []byte(main), ccDrop: []byte(drop)}), ccMain, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := []FileChange{
		{Name: ccMain, Old: []byte(main), New: []byte("Include /etc/ssh/sshd_config.d/*.conf\nAuthorizedKeysCommand /usr/bin/true %u\n")},
		{Name: ccDrop, Old: []byte(drop), New: []byte("AuthorizedKeysCommandUser nobody\nSubsystem sftp internal-sftp\n")},
	}
	var inter *Interdependent
	if _, err := Order(cfg, files, nil); !errors.As(err, &inter) {
		t.Errorf("Order(files that need each other) = %v, want *Interdependent", err)
	}
}

// TestOrderTempsIncluded: where an Include pattern could match the
// temporary file Write renames over a changed file, Order refuses.
func TestOrderTempsIncluded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		include string
		refused bool
	}{
		{"/etc/ssh/sshd_config.d/*.conf", false},
		{"/etc/ssh/sshd_config.d/*", false},
		{"/etc/ssh/sshd_config.d/.*", true},
		{"sshd_config.d/.*", true},
		{`/etc/ssh/sshd_config.d/\.*`, true},
		{"/etc/ssh/.*", false},
	} {
		files := map[string][]byte{
			ccMain: []byte("Include " + tt.include + "\n"),
			ccDrop: []byte("ClientAliveInterval 0\n"),
		}
		cfg, err := sshdconf.Load(memfs.New(files), ccMain, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Order(cfg, []FileChange{{Name: ccDrop, Old: files[ccDrop], New: []byte("ClientAliveInterval 300\n")}}, nil)
		if (err != nil) != tt.refused {
			t.Errorf("Include %s: Order() = %v, want refused: %v", tt.include, err, tt.refused)
		}
	}
}
