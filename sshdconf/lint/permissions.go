package lint

import "github.com/sshwarden/sshwarden/sshdconf"

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
