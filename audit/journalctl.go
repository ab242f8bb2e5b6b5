package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// JournalQuery says which journal [ReadJournal] reads: the local one, a
// journal directory (journalctl -D), or a namespace (--namespace).
type JournalQuery struct {
	Directory string
	Namespace string
}

// ReadJournal runs journalctl for the agent's records within opt's bounds
// and reads its output as it comes, as [ReadReport] does. note is what
// journalctl said on stderr when it succeeded (such as "No journal files
// were found"), which may explain an empty report.
func ReadJournal(ctx context.Context, opt ReportOptions, q JournalQuery) (rep *Report, note string, err error) {
	bin, err := exec.LookPath("journalctl")
	if err != nil {
		return nil, "", fmt.Errorf("reading the journal needs journalctl (%v); or give a file of JSON lines with --input", err)
	}
	args := []string{"-o", "json", "--no-pager", "-q", "--output-fields=" + strings.Join(ReportFields, ",")}
	if q.Directory != "" {
		args = append(args, "-D", q.Directory)
	}
	if q.Namespace != "" {
		args = append(args, "--namespace", q.Namespace)
	}
	// journalctl's own bounds save reading what the report would skip;
	// seconds, rounded outwards, and the report bounds exactly.
	if !opt.Since.IsZero() {
		args = append(args, "--since", "@"+strconv.FormatInt(opt.Since.Unix(), 10))
	}
	if !opt.Until.IsZero() {
		args = append(args, "--until", "@"+strconv.FormatInt(opt.Until.Unix()+1, 10))
	}
	args = append(args, "SYSLOG_IDENTIFIER="+SyslogIdentifier)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("running journalctl: %v", err)
	}
	rep, readErr := ReadReport(out, opt)
	if readErr != nil {
		cancel()
	}
	_, _ = io.Copy(io.Discard, out)
	waitErr := cmd.Wait()
	msg := strings.TrimSpace(stderr.String())
	switch {
	case readErr != nil:
		return nil, "", readErr
	case waitErr != nil:
		if msg == "" {
			msg = waitErr.Error()
		}
		return nil, "", fmt.Errorf("journalctl %s: %s", strings.Join(args, " "), msg)
	}
	return rep, msg, nil
}
