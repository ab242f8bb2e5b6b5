package oracle

import (
	"bytes"
	"strings"
)

// Archive is a test tree in txtar form, read byte-exactly: unlike
// golang.org/x/tools/txtar, the last file keeps a missing final newline, and
// CRLF bytes stay as they are. The comment section carries directives:
//
//	spec user=U,host=H,addr=A,laddr=L,lport=P   a connection to compare
//	main etc/ssh/sshd_config                    the main file (the default)
//	invalid                                     sshd refuses the tree
type Archive struct {
	Comment string
	Files   map[string][]byte
	Order   []string
	Specs   []string
	Main    string
	Invalid bool
}

// ParseArchive parses a txtar file.
func ParseArchive(data []byte) *Archive {
	a := &Archive{Files: map[string][]byte{}, Main: "/etc/ssh/sshd_config"}
	name := ""
	var cur []byte
	inFile := false
	flush := func() {
		if inFile {
			a.Files[name] = cur
			a.Order = append(a.Order, name)
		} else {
			a.Comment = string(cur)
		}
	}
	for len(data) > 0 {
		n := bytes.IndexByte(data, '\n')
		line := data
		if n >= 0 {
			line = data[:n+1]
		}
		data = data[len(line):]
		t := strings.TrimRight(string(line), "\r\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			flush()
			name, cur, inFile = strings.TrimSpace(t[3:len(t)-3]), nil, true
			continue
		}
		cur = append(cur, line...)
	}
	flush()
	for _, l := range strings.Split(a.Comment, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "spec":
			a.Specs = append(a.Specs, f[1])
		case len(f) == 2 && f[0] == "main":
			a.Main = "/" + strings.TrimPrefix(f[1], "/")
		case len(f) == 1 && f[0] == "invalid":
			a.Invalid = true
		}
	}
	return a
}
