package lint

import (
	"syscall"

	"github.com/sshwarden/sshwarden/sshdconf"
)

// ReadStat returns the Pass.Stat lookup of the files as Load read them
// (the fstat of the descriptor they were read from, so the file checked is
// the file linted, and no second system call is made). With owners false
// the uid is reported as unknown (-1): the owner of a checked-out tree says
// nothing about the server's.
func ReadStat(cfg *sshdconf.Config, owners bool) func(string) (int, uint32, bool) {
	return func(name string) (int, uint32, bool) {
		f := cfg.File(name)
		if f == nil || f.Info == nil {
			return 0, 0, false
		}
		uid := -1
		if sys, ok := f.Info.Sys().(*syscall.Stat_t); ok && owners {
			uid = int(sys.Uid)
		}
		return uid, uint32(f.Info.Mode().Perm()), true
	}
}

func filePermissions() *Check {
	return &Check{
		Name:     "file-permissions",
		Severity: Warning,
		Doc: "sshd_config or an included file writable by someone other than root. " +
			"Whoever can write a file sshd reads controls sshd at its next reload: ForceCommand, " +
			"AuthorizedKeysCommand and PermitRootLogin run or admit anything. Make the files owned by " +
			"root and not writable by group or others (chmod 644 or 600).",
		Run: func(p *Pass) {
			if p.Stat == nil {
				return
			}
			for _, f := range p.Config.Files {
				uid, mode, ok := p.Stat(f.Name)
				if !ok {
					continue
				}
				switch {
				case mode&0o022 != 0:
					p.Reportf(Warning, posOfFile(f.Name), "%s is writable by %s (mode %04o): anyone who can write it controls sshd", f.Name, writers(mode), mode&0o7777)
				case uid >= 0 && uid != 0:
					p.Reportf(Warning, posOfFile(f.Name), "%s is owned by uid %d, not root: its owner controls sshd", f.Name, uid)
				}
			}
		},
	}
}

func writers(mode uint32) string {
	switch {
	case mode&0o020 != 0 && mode&0o002 != 0:
		return "group and others"
	case mode&0o002 != 0:
		return "others"
	}
	return "its group"
}

// posOfFile is the position findings about a whole file use: its first line.
func posOfFile(name string) sshdconf.Pos { return sshdconf.Pos{File: name, Line: 1, Col: 1} }
