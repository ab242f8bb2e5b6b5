package enforcer

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// HostUsers is this host's user database for Match Group, read again when
// /etc/passwd or /etc/group changes (checked at most every 10 s), and at
// the next use after Refresh. The zero HostUsers is ready to use.
type HostUsers struct {
	mu      sync.Mutex
	u       *sshdconf.FileUsers
	checked time.Time
	stamp   string
}

// Refresh makes the next use look at the files again.
func (h *HostUsers) Refresh() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checked = time.Time{}
}

func (h *HostUsers) get() *sshdconf.FileUsers {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.u != nil && time.Since(h.checked) < 10*time.Second {
		return h.u
	}
	h.checked = time.Now()
	var stamp strings.Builder
	for _, f := range []string{"/etc/passwd", "/etc/group"} {
		if st, err := os.Stat(f); err == nil {
			fmt.Fprintf(&stamp, "%d.%d.", st.ModTime().UnixNano(), st.Size())
		}
	}
	if h.u == nil || stamp.String() != h.stamp {
		h.u, h.stamp = sshdconf.LoadFileUsers(os.DirFS("/")), stamp.String()
	}
	return h.u
}

// Groups returns the groups of user (see [sshdconf.Users]).
func (h *HostUsers) Groups(user string) ([]string, bool) { return h.get().Groups(user) }

// Home returns the home folder of user (see [sshdconf.Users]).
func (h *HostUsers) Home(user string) (string, bool) { return h.get().Home(user) }
