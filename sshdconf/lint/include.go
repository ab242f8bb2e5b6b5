package lint

import (
	"path"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf"
)

func includeNoMatch() *Check {
	return &Check{
		Name:     "include-no-match",
		Severity: Warning,
		Doc: "An Include pattern that matches no file. " +
			"sshd ignores it silently: a typo in the path means the settings you meant to include " +
			"are not in effect. An empty drop-in folder (Debian's default) is reported as info only.",
		Run: func(p *Pass) {
			if !knows(p.Config, "Include") {
				return // before 8.2: sshd-refuses reports every Include line
			}
			for _, inc := range p.Config.Includes() {
				if len(inc.Files) > 0 {
					continue
				}
				dir := path.Dir(inc.Pattern)
				if !strings.ContainsAny(path.Base(inc.Pattern), "*?[") {
					p.Reportf(Warning, inc.Directive.Pos, "Include %s: no such file, so nothing is included", inc.Pattern)
					continue
				}
				if _, err := p.Config.ReadDir(dir); err == nil {
					p.Reportf(Info, inc.Directive.Pos, "Include %s matches no file (the folder is there, and empty of matches)", inc.Pattern)
					continue
				}
				p.Reportf(Warning, inc.Directive.Pos, "Include %s matches no file: %s does not exist, so nothing is included", inc.Pattern, dir)
			}
		},
	}
}

func includeSkipped() *Check {
	return &Check{
		Name:     "include-skipped",
		Severity: Warning,
		Doc: "A file in an included folder that the Include pattern does not match. " +
			"sshd reads only the files the pattern matches (sshd_config.d/*.conf): a drop-in named " +
			"README, 60-x.conf.disabled, x.conf~ or 50-cloud-init.conf.rpmnew is not read. That is " +
			"often on purpose; it is a warning when the skipped file holds directives.",
		Run: func(p *Pass) {
			if !knows(p.Config, "Include") {
				return
			}
			seen := map[string]bool{}
			for _, inc := range p.Config.Includes() {
				dir, base := path.Dir(inc.Pattern), path.Base(inc.Pattern)
				if !strings.ContainsAny(base, "*?[") || seen[inc.Pattern] {
					continue
				}
				seen[inc.Pattern] = true
				ents, err := p.Config.ReadDir(dir)
				if err != nil {
					continue
				}
				matched := map[string]bool{} // read through any Include
				for _, f := range p.Config.Files {
					matched[f.Name] = true
				}
				for _, e := range ents {
					name := dir + "/" + e.Name()
					if e.IsDir() || matched[name] || strings.HasPrefix(e.Name(), ".") && !strings.HasSuffix(e.Name(), ".conf") {
						continue
					}
					b, err := p.Config.ReadFile(name)
					if err != nil {
						continue
					}
					if hasDirectives(b) {
						p.Reportf(Warning, sshdconf.Pos{File: name, Line: 1, Col: 1},
							"sshd does not read this file: Include %s (%s) does not match its name, so its settings are not in effect", inc.Pattern, short(inc.Directive.Pos))
					} else {
						p.Reportf(Info, sshdconf.Pos{File: name, Line: 1, Col: 1},
							"not read by sshd: Include %s does not match this name", inc.Pattern)
					}
				}
			}
		},
	}
}

// hasDirectives reports whether b holds a line with an sshd keyword (a
// README's prose does not).
func hasDirectives(b []byte) bool {
	for _, l := range sshdconf.Parse("", b).Lines() {
		if l.IsDirective() && sshdconf.Lookup(l.KeywordName()) != nil {
			return true
		}
	}
	return false
}
