package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/fix"
)

// ReleaseWait bounds [SSHDRelease]: `sshd -V` answers in milliseconds, but
// a command that waits on the host (the agent at start, lint) must not
// hang on a broken binary.
const ReleaseWait = 5 * time.Second

// maxSSHDBinary bounds what [SSHDRelease] reads of the binary (sshd is
// about 1 MB).
const maxSSHDBinary = 64 << 20

// SSHDRelease returns the OpenSSH release of the sshd binary at path (""
// for [DefaultSSHD]): the version `sshd -V` prints (releases before 9.2
// have no -V: they print "unknown option -- V" and a usage text whose first
// line names the version, and exit 1), Debian's build when the text says so
// ("OpenSSH_10.0p2 Debian-7") or when the binary knows Debian's
// DebianBanner keyword (Debian 12's sshd -V prints only "OpenSSH_9.2").
// It runs sshd each time (nothing is cached: the package may be upgraded
// between two runs), within ctx and [ReleaseWait].
//
// It returns [fix.ErrNoSSHD] when there is no file at path.
func SSHDRelease(ctx context.Context, path string) (*sshdconf.Release, error) {
	if path == "" {
		path = DefaultSSHD
	}
	bin, err := readBinary(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fix.ErrNoSSHD
	}
	if err != nil {
		return nil, fmt.Errorf("reading the sshd binary: %w", err)
	}
	return releaseOf(ctx, path, bin, []string{path, "-V"})
}

// readBinary reads up to maxSSHDBinary bytes of the file at path.
func readBinary(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSSHDBinary))
}

// releaseOf runs argv (an sshd with -V) and reads the release from what it
// prints and from the binary's bytes bin.
func releaseOf(ctx context.Context, path string, bin []byte, argv []string) (*sshdconf.Release, error) {
	ctx, cancel := context.WithTimeout(ctx, ReleaseWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = time.Second
	err := cmd.Run() // exit 1 before 9.2: the usage text names the version
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s -V: %w", path, ctx.Err())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("%s -V: %w", path, err)
	}
	text := out.String()
	if len(text) > 4096 {
		text = text[:4096]
	}
	rel, perr := sshdconf.ParseBanner(text, sshdconf.IsDebianBuild(bin))
	if perr != nil {
		return nil, fmt.Errorf("%s -V: %w", path, perr)
	}
	return rel, nil
}

// OtherRelease is why [Apply] did not have the host's sshd check a
// configuration: the host's sshd is another release than the one the
// configuration is read as, and its `sshd -t` would judge another
// language.
type OtherRelease struct {
	Host, Want *sshdconf.Release
}

func (e *OtherRelease) Error() string {
	return fmt.Sprintf("no sshd of %s runs here (this host's is %s)", e.Want, e.Host)
}

// SameRelease reports whether a and b are the same build of the same
// release (the patch level aside: 9.9p1 and 9.9p2 read a configuration
// alike).
func SameRelease(a, b *sshdconf.Release) bool {
	return a.Version() == b.Version() && a.Debian() == b.Debian()
}

// hostRelease checks that the host's sshd is the release want: it returns
// nil when it is, fix.ErrNoSSHD when there is no sshd, an *OtherRelease
// when it is another release, or why its release could not be told.
func hostRelease(ctx context.Context, want *sshdconf.Release) error {
	have, err := SSHDRelease(ctx, DefaultSSHD)
	if err != nil {
		return err
	}
	if !SameRelease(have, want) {
		return &OtherRelease{Host: have, Want: want}
	}
	return nil
}
