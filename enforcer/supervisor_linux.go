package enforcer

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sshwarden/sshwarden/internal/host"
)

// applyFix is the default of Supervisor.Fix.
func applyFix(ctx context.Context, o host.ApplyOptions) (*host.Applied, error) {
	return host.Apply(ctx, o)
}

// reloadingNotice is sd_notify's RELOADING=1, with the time that systemd
// 253 and later want beside it.
func reloadingNotice() string {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return "RELOADING=1"
	}
	return fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", ts.Nano()/1000)
}
