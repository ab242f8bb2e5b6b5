//go:build linux

package host

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/sshwarden/sshwarden/internal/sshdtest"
)

// The systemd path of Reload is tested against a stand-in for systemd: a
// real dbus-daemon, started by the test on a private socket, on which the
// test owns the name org.freedesktop.systemd1 and exports the few methods
// Reload calls (Properties.Get of a unit's LoadState, Manager.ReloadUnit)
// and emits Manager.JobRemoved as systemd does when a job ends. systemd
// itself cannot run here: it must be PID 1 to manage services, and on
// this CI machine it is not. The D-Bus wire protocol, the bus daemon and
// the go-systemd client are the real ones.

// fakeSystemd answers for systemd on a bus and records the calls.
type fakeSystemd struct {
	conn   *dbus.Conn
	states map[string]string // unit -> LoadState
	result string            // of every reload job; "" emits no JobRemoved
	refuse *dbus.Error       // when set, ReloadUnit fails with it

	mu    sync.Mutex
	calls []string
	jobs  int
	wg    sync.WaitGroup // the JobRemoved emitters
}

func (f *fakeSystemd) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeSystemd) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fakeManager is org.freedesktop.systemd1.Manager at /org/freedesktop/systemd1.
type fakeManager struct{ f *fakeSystemd }

// ReloadUnit queues a job and, once the reply is out, ends it with the
// fake's result, as systemd does (JobRemoved: id, job, unit, result).
func (m fakeManager) ReloadUnit(name, mode string) (dbus.ObjectPath, *dbus.Error) {
	f := m.f
	f.record("ReloadUnit " + name + " " + mode)
	if f.refuse != nil {
		return "", f.refuse
	}
	f.mu.Lock()
	f.jobs++
	id := uint32(f.jobs)
	f.mu.Unlock()
	job := dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/systemd1/job/%d", id))
	if f.result != "" {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			time.Sleep(50 * time.Millisecond) // after the reply
			_ = f.conn.Emit("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.JobRemoved", id, job, name, f.result)
		}()
	}
	return job, nil
}

// fakeUnit is org.freedesktop.DBus.Properties of one unit's object.
type fakeUnit struct {
	f    *fakeSystemd
	name string
}

func (u fakeUnit) Get(iface, prop string) (dbus.Variant, *dbus.Error) {
	u.f.record("Get " + u.name + " " + iface + " " + prop)
	if iface != "org.freedesktop.systemd1.Unit" || prop != "LoadState" {
		return dbus.Variant{}, &dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownProperty", Body: []any{"unknown property " + iface + "." + prop}}
	}
	state, ok := u.f.states[u.name]
	if !ok {
		state = "not-found" // what systemd answers for a unit it has no file for
	}
	return dbus.MakeVariant(state), nil
}

// startFakeSystemd connects to the bus at addr, takes the name
// org.freedesktop.systemd1 and exports the manager and the units
// ssh.service and sshd.service; it gives the name up in t.Cleanup.
func startFakeSystemd(t *testing.T, addr string, f *fakeSystemd) {
	t.Helper()
	// The connection lives until the cleanup cancels ctx, or until the
	// timer does, if the bus does not answer Hello in time.
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(appearTimeout, cancel)
	conn, err := dbus.Dial(addr, dbus.WithContext(ctx))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.wg.Wait()
		// Give the name up with a call the bus answers, before the next
		// subtest asks for it: the bus handles a closed connection only
		// some time after Close returns, and meanwhile the name is not
		// free.
		_, _ = conn.ReleaseName("org.freedesktop.systemd1")
		cancel()
		conn.Close()
	})
	if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatalf("Hello to the bus at %s: %v", addr, err)
	}
	if !timer.Stop() {
		t.Fatalf("the bus at %s did not answer within %v", addr, appearTimeout)
	}
	f.conn = conn
	if err := conn.Export(fakeManager{f}, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"ssh.service", "sshd.service"} {
		path := dbus.ObjectPath("/org/freedesktop/systemd1/unit/" + strings.ReplaceAll(u, ".", "_2e"))
		if err := conn.Export(fakeUnit{f, u}, path, "org.freedesktop.DBus.Properties"); err != nil {
			t.Fatal(err)
		}
	}
	reply, err := conn.RequestName("org.freedesktop.systemd1", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("taking the name org.freedesktop.systemd1: %v, %v", reply, err)
	}
}

// busConfig is the dbus-daemon configuration of startBus.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=SOCKET</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// startBus starts a private dbus-daemon and returns its address; it stops
// it in t.Cleanup.
func startBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		sshdtest.Missing(t, "this test needs dbus-daemon (apt-get install dbus-daemon)")
	}
	// A bus of its own: listening only on a socket in a temporary
	// directory, and with no service directory, so that nothing is
	// started on demand (the session bus would run a .service file for
	// org.freedesktop.systemd1).
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	text := strings.ReplaceAll(busConfig, "SOCKET", html.EscapeString(filepath.Join(dir, "bus")))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	p := startCmd(t, cmd)
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			select {
			case <-p.done:
				t.Fatalf("dbus-daemon printed no address: %v\n%s", p.err, stderr.String())
			case <-time.After(appearTimeout):
				t.Fatalf("dbus-daemon closed its stdout without an address")
			}
		}
		return addr
	case <-time.After(appearTimeout):
		t.Fatalf("dbus-daemon printed no address within %v", appearTimeout)
	}
	return ""
}

// validConfig writes an sshd_config that `sshd -t` accepts, for the
// check Reload makes first.
func validConfig(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		sshdtest.Missing(t, "this test needs root (sshd -t reads host keys)")
	}
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		sshdtest.Missing(t, "this test needs ssh-keygen (apt-get install openssh-client)")
	}
	if _, err := os.Stat(DefaultSSHD); err != nil {
		sshdtest.Missing(t, "this test needs "+DefaultSSHD+" (apt-get install openssh-server)")
	}
	// sshd, even sshd -t, exits 255 without its privilege separation
	// directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "hostkey")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	config := filepath.Join(dir, "sshd_config")
	content := fmt.Sprintf("ListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\n", key, filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(config, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

// TestReloadSystemd reloads through the stand-in for systemd (see the
// comment at the top of this file) and checks what Reload asked of it.
func TestReloadSystemd(t *testing.T) {
	t.Parallel()
	addr := startBus(t)
	config := validConfig(t)
	bad := filepath.Join(t.TempDir(), "sshd_config")
	if err := os.WriteFile(bad, []byte("NoSuchKeyword yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		getSSH  = "Get ssh.service org.freedesktop.systemd1.Unit LoadState"
		getSSHD = "Get sshd.service org.freedesktop.systemd1.Unit LoadState"
	)
	tests := []struct {
		name    string
		fake    *fakeSystemd // nil: nobody owns org.freedesktop.systemd1
		config  string
		timeout time.Duration
		want    string // Reload's message, or
		wantErr string // its error, or
		errPre  string // its error's beginning
		calls   []string
	}{
		{
			name:  "ssh.service",
			fake:  &fakeSystemd{states: map[string]string{"ssh.service": "loaded", "sshd.service": "loaded"}, result: "done"},
			want:  "systemd reloaded ssh.service; " + SessionsNote,
			calls: []string{getSSH, "ReloadUnit ssh.service replace"},
		},
		{
			name:  "sshd.service",
			fake:  &fakeSystemd{states: map[string]string{"sshd.service": "loaded"}, result: "done"},
			want:  "systemd reloaded sshd.service; " + SessionsNote,
			calls: []string{getSSH, getSSHD, "ReloadUnit sshd.service replace"},
		},
		{
			name:    "neither",
			fake:    &fakeSystemd{states: map[string]string{"sshd.service": "masked"}, result: "done"},
			wantErr: `no sshd unit to reload: ssh.service is "not-found", sshd.service is "masked"`,
			calls:   []string{getSSH, getSSHD},
		},
		{
			name:    "job failed",
			fake:    &fakeSystemd{states: map[string]string{"ssh.service": "loaded"}, result: "failed"},
			wantErr: `systemd reload of ssh.service ended with "failed", not "done" (see journalctl -u ssh.service)`,
			calls:   []string{getSSH, "ReloadUnit ssh.service replace"},
		},
		{
			name: "reload refused",
			fake: &fakeSystemd{states: map[string]string{"ssh.service": "loaded"}, refuse: &dbus.Error{
				Name: "org.freedesktop.systemd1.UnitInactive", Body: []any{"Unit ssh.service is not active."}}},
			wantErr: "systemd refused to reload ssh.service: Unit ssh.service is not active.",
			calls:   []string{getSSH, "ReloadUnit ssh.service replace"},
		},
		{
			name:    "job never ends",
			fake:    &fakeSystemd{states: map[string]string{"ssh.service": "loaded"}},
			timeout: 2 * time.Second,
			wantErr: "waiting for systemd to reload ssh.service: context deadline exceeded",
			calls:   []string{getSSH, "ReloadUnit ssh.service replace"},
		},
		{
			name:   "config refused",
			fake:   &fakeSystemd{states: map[string]string{"ssh.service": "loaded"}, result: "done"},
			config: bad,
			errPre: fmt.Sprintf("%s -t -f %s refused the configuration, nothing was reloaded: exit status 255\n", DefaultSSHD, bad),
			calls:  nil,
		},
		{
			name:    "no systemd on the bus",
			wantErr: "asking systemd for the LoadState of ssh.service: The name org.freedesktop.systemd1 was not provided by any .service files",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fake != nil {
				startFakeSystemd(t, addr, tt.fake)
			}
			if tt.config == "" {
				tt.config = config
			}
			if tt.timeout == 0 {
				tt.timeout = 20 * time.Second
			}
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			yes := true
			got, err := Reload(ctx, ReloadOptions{Config: tt.config, SystemdBus: addr, Systemd: &yes})
			switch {
			case tt.want != "":
				if err != nil || got != tt.want {
					t.Errorf("Reload = %q, %v, want %q", got, err, tt.want)
				}
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("Reload = %q, %v, want error %q", got, err, tt.wantErr)
				}
			default:
				if err == nil || !strings.HasPrefix(err.Error(), tt.errPre) {
					t.Errorf("Reload = %q, %v, want an error starting %q", got, err, tt.errPre)

				}
			}
			if tt.fake != nil {
				if diff := cmp.Diff(tt.calls, tt.fake.recorded()); diff != "" {
					t.Errorf("calls to systemd (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestReloadDetectsSystemd checks that without Systemd, Reload takes the
// path sd_booted(3) would: here, where /run/systemd/system is no
// directory, the signal path, which a missing PidFile stops.
func TestReloadDetectsSystemd(t *testing.T) {
	t.Parallel()
	if fi, err := os.Lstat(systemdRunDir); err == nil && fi.IsDir() {
		// Here Reload would ask the host's systemd to reload the
		// host's sshd: no test may do that.
		t.Skipf("systemd runs here (%s is a directory)", systemdRunDir)
	}
	config := validConfig(t)
	_, err := Reload(t.Context(), ReloadOptions{Config: config})
	want := "no PidFile given: cannot find the sshd listener to reload"
	if err == nil || err.Error() != want {
		t.Errorf("Reload without Systemd and PidFile = %v, want error %q", err, want)
	}
}
