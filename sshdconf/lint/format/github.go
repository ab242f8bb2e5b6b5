package format

import (
	"fmt"
	"io"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// GitHub writes GitHub Actions workflow commands (::error file=...::msg),
// which GitHub shows as annotations on the files of the pull request.
func GitHub(w io.Writer, fs []Finding) error {
	for _, f := range fs {
		cmd := map[lint.Severity]string{lint.Error: "error", lint.Warning: "warning", lint.Info: "notice"}[f.Severity]
		if _, err := fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", cmd,
			ghProperty(f.File), max(f.Pos.Line, 1), max(f.Pos.Col, 1), ghProperty(f.Check), ghData(f.Message)); err != nil {
			return err
		}
	}
	return nil
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
