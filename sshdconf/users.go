package sshdconf

import (
	"bufio"
	"bytes"
	"io/fs"
	"strconv"
	"strings"
)

// Users is the part of the system user database that sshd consults while
// reading its configuration: `Match Group` (getpwnam, then getgrouplist and
// getgrgid) and `~` in file names (the home directory).
type Users interface {
	// Groups returns the names of the groups of user, primary group first,
	// and whether the user exists.
	Groups(user string) ([]string, bool)
	// Home returns the home directory of user, and whether the user exists.
	Home(user string) (string, bool)
}

// FileUsers reads /etc/passwd and /etc/group from an fs.FS, the way glibc's
// "files" NSS module does. It does not see users of other NSS sources (LDAP,
// SSSD): on such hosts pass a Users of your own.
type FileUsers struct {
	passwd map[string]pwent
	byGID  map[int]string   // first group with each gid
	member map[string][]int // user -> gids of groups listing them, in file order
}

type pwent struct {
	gid  int
	home string
}

// LoadFileUsers reads etc/passwd and etc/group from fsys (rooted at "/").
// Missing files read as empty.
func LoadFileUsers(fsys fs.FS) *FileUsers {
	u := &FileUsers{passwd: map[string]pwent{}, byGID: map[int]string{}, member: map[string][]int{}}
	if b, err := fs.ReadFile(fsys, "etc/passwd"); err == nil {
		eachRecord(b, func(f []string) {
			if len(f) < 7 {
				return
			}
			gid, err := strconv.Atoi(f[3])
			if err != nil {
				return
			}
			if _, dup := u.passwd[f[0]]; !dup {
				u.passwd[f[0]] = pwent{gid: gid, home: f[5]}
			}
		})
	}
	if b, err := fs.ReadFile(fsys, "etc/group"); err == nil {
		eachRecord(b, func(f []string) {
			if len(f) < 4 {
				return
			}
			gid, err := strconv.Atoi(f[2])
			if err != nil {
				return
			}
			if _, dup := u.byGID[gid]; !dup {
				u.byGID[gid] = f[0]
			}
			if f[3] == "" {
				return
			}
			for _, m := range strings.Split(f[3], ",") {
				u.member[m] = append(u.member[m], gid)
			}
		})
	}
	return u
}

func eachRecord(b []byte, fn func([]string)) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		fn(strings.Split(line, ":"))
	}
}

// Groups implements Users: getgrouplist(user, pw_gid) then getgrgid names.
func (u *FileUsers) Groups(user string) ([]string, bool) {
	pw, ok := u.passwd[user]
	if !ok {
		return nil, false
	}
	gids := []int{pw.gid}
	for _, g := range u.member[user] {
		dup := false
		for _, h := range gids {
			dup = dup || h == g
		}
		if !dup {
			gids = append(gids, g)
		}
	}
	var names []string
	for _, g := range gids {
		if n, ok := u.byGID[g]; ok {
			names = append(names, n)
		}
	}
	return names, true
}

// Home implements Users.
func (u *FileUsers) Home(user string) (string, bool) {
	pw, ok := u.passwd[user]
	return pw.home, ok
}
