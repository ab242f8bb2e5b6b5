package fix

import (
	"errors"
	"strings"
)

// What a check of the real sshd returns (see [Order]; internal/host's
// Checker is the one sshwarden uses).

// ErrNoSSHD is returned by a check when sshd is not installed, so only
// the sshdconf model checked the configuration.
var ErrNoSSHD = errors.New("sshd is not installed")

// SSHDRefused is the error of a configuration the real `sshd -t` refuses.
type SSHDRefused struct {
	Output string // what sshd printed
}

func (e *SSHDRefused) Error() string {
	return "sshd -t refuses it: " + strings.TrimSpace(e.Output)
}

// The temporary file that a changed file's new content is written to
// before it is renamed over the file (internal/host's Write) is named
// "." + base + TempMarker + TempHexLen lower-case hex digits, next to
// it; [Order] refuses a plan in which sshd could read one.
const (
	TempMarker = ".sshwarden-"
	TempHexLen = 16
)
