package sshdtest

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// unsetSession is /proc/PID/sessionid of a process outside any login.
const unsetSession = "4294967295"

// Process is a process below the listener, read from /proc.
type Process struct {
	PID   int
	PPID  int
	State byte   // as in /proc/PID/stat: R, S, T, Z, ...
	Start uint64 // clock ticks after boot (field 22 of /proc/PID/stat)
	Title string // the command line, which sshd overwrites with its title
}

func (p Process) String() string {
	return fmt.Sprintf("%d (parent %d, %c) %q", p.PID, p.PPID, p.State, p.Title)
}

// Processes returns the processes below the listener, parents before
// children: per connection the privileged monitor (`sshd: USER [priv]`,
// before authentication `sshd: [accepted]`; `sshd-session: ...` from 9.8
// on), its unprivileged child (`sshd: USER@notty`, `sshd: USER@pts/N`,
// `sshd: USER` for ssh -N) and the commands that child runs. Orphaned
// commands are not below it any more. After [Server.StopListener], the
// processes of the logins it served then, and everything below them.
func (s *Server) Processes() []Process {
	all := map[int]Process{}
	children := map[int][]int{}
	for _, pid := range allPIDs() {
		p, ok := readProcess(pid)
		if !ok {
			continue
		}
		all[pid] = p
		children[p.PPID] = append(children[p.PPID], pid)
	}
	var queue []int
	if s.listenerAlive() {
		queue = slices.Clone(children[s.PID])
	}
	// The remembered processes that are still themselves, and of those
	// the ones whose parent is not one of them: the tops of their trees.
	s.mu.Lock()
	adopted := map[int]bool{}
	for pid, start := range s.adopted {
		if p, ok := all[pid]; ok && p.Start == start {
			adopted[pid] = true
		}
	}
	s.mu.Unlock()
	for pid := range adopted {
		if !adopted[all[pid].PPID] {
			queue = append(queue, pid)
		}
	}
	slices.Sort(queue)
	var out []Process
	seen := map[int]bool{}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		out = append(out, all[pid])
		kids := slices.Clone(children[pid])
		slices.Sort(kids)
		queue = append(queue, kids...)
	}
	return out
}

// Alive reports whether pid exists and is neither a zombie nor dead.
func Alive(pid int) bool {
	p, ok := readProcess(pid)
	return ok && p.State != 'Z' && p.State != 'X' && p.State != 'x' // zombie, dead
}

func readProcess(pid int) (Process, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Process{}, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return Process{}, false
	}
	// state ppid pgrp session tty tpgid flags minflt cminflt majflt
	// cmajflt utime stime cutime cstime priority nice threads itrealvalue
	// starttime
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return Process{}, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return Process{}, false
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return Process{}, false
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	title := strings.TrimRight(strings.ReplaceAll(string(cmdline), "\x00", " "), " ")
	return Process{PID: pid, PPID: ppid, State: f[0][0], Start: start, Title: title}, true
}

func allPIDs() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sessionID returns /proc/PID/sessionid, the audit session pam_loginuid
// gives each login; "" if unreadable.
func sessionID(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/sessionid", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// listensOn reports whether pid holds a socket listening on
// 127.0.0.1:port, per its fds and /proc/net/tcp.
func listensOn(pid, port int) bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	tcp, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return false
	}
	// The address is the network-order word printed in host order.
	le, be := fmt.Sprintf("0100007F:%04X", port), fmt.Sprintf("7F000001:%04X", port)
	for l := range strings.Lines(string(tcp)) {
		// sl local rem st tx:rx tr:when retr uid timeout inode
		f := strings.Fields(l)
		if len(f) >= 10 && (f[1] == le || f[1] == be) && f[3] == "0A" && inodes[f[9]] {
			return true
		}
	}
	return false
}

// connectedTo reports whether pid's environment has an SSH_CONNECTION
// ending with suffix (" SERVERADDR SERVERPORT").
func connectedTo(pid int, suffix string) bool {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	for kv := range strings.SplitSeq(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "SSH_CONNECTION="); ok {
			return strings.HasSuffix(v, suffix)
		}
	}
	return false
}
