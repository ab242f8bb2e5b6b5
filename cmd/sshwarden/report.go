package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sshwarden/sshwarden/audit"
)

const reportUsage = `usage: sshwarden report [--since TIME] [--until TIME] [--json]
                        [--input FILE|-] [--directory DIR] [--namespace NS]

Sums up the agent's audit trail, so that an admin can tune the policy:
warnings, closes by reason, warnings heeded (input came before the close),
failures, each per host (when the trail holds several), per user, per
policy rule (FILE:LINE) and per local port;
the idle time at close; closes per hour of day; and suggestions that follow
from the numbers. Dry-run records are counted apart.

The records come from the journal ("journalctl -o json
SYSLOG_IDENTIFIER=sshwarden", from the local journal, a journal directory
with --directory, or a namespace with --namespace), or from --input: a file
of such JSON lines, "-" for standard input, for example an export from
another host or a central journal. Lines that are not sshwarden's audit
records are counted and skipped, and so is a journal entry read again (a
resumed systemd-journal-upload sends one entry twice).

TIME is an RFC 3339 time, a local "2006-01-02" or "2006-01-02 15:04[:05]",
"today", "yesterday", "@UNIXSECONDS", or a time ago ("24h", "90m", "7d",
"2w", with or without a leading "-").

Examples:
  sshwarden report --since 7d
  sshwarden report --since 2026-11-01 --until 2026-12-01 --json
  journalctl -D /var/log/journal/remote -o json SYSLOG_IDENTIFIER=sshwarden | sshwarden report --input -

Flags:
`

func runReport(e *env, args []string) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, reportUsage); fs.PrintDefaults() }
	since := fs.String("since", "", "count the records at or after `TIME`")
	until := fs.String("until", "", "count the records before `TIME`")
	asJSON := fs.Bool("json", false, `print JSON: {"warned":N,"closed":N,"heeded":N,...}`)
	input := fs.String("input", "", "read JSON lines from `FILE` (- for standard input) instead of the journal")
	dir := fs.String("directory", "", "read the journal files in `DIR` (journalctl -D), e.g. a central journal")
	namespace := fs.String("namespace", "", "read the journal namespace `NS` (journalctl --namespace)")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		e.errorf("report takes no arguments: %q", rest)
		return exitUsage
	}
	if *input != "" && (*dir != "" || *namespace != "") {
		e.errorf("--input reads a file: it does not go with --directory or --namespace")
		return exitUsage
	}
	now := time.Now()
	var opt audit.ReportOptions
	for _, w := range []struct {
		flag, value string
		dst         *time.Time
	}{{"since", *since, &opt.Since}, {"until", *until, &opt.Until}} {
		if w.value == "" {
			continue
		}
		t, err := parseWhen(w.value, now)
		if err != nil {
			e.errorf("--%s: %v", w.flag, err)
			return exitUsage
		}
		*w.dst = t
	}
	if !opt.Since.IsZero() && !opt.Until.IsZero() && !opt.Since.Before(opt.Until) {
		e.errorf("--since %s is not before --until %s", *since, *until)
		return exitUsage
	}

	rep, err := e.readTrail(*input, opt, audit.JournalQuery{Directory: *dir, Namespace: *namespace})
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		e.errorf("writing the report: %v", err)
		return exitUsage
	}
	return exitOK
}

// readTrail reads the audit trail for report and evidence: from the
// journal (journalctl, a note it prints goes to stderr), or from input, a
// file of JSON lines ("-" for standard input).
func (e *env) readTrail(input string, opt audit.ReportOptions, q audit.JournalQuery) (*audit.Report, error) {
	switch input {
	case "":
		rep, note, err := audit.ReadJournal(context.Background(), opt, q)
		if note != "" {
			// Warnings such as "No journal files were found": the report
			// may be empty for that reason, so say it.
			fmt.Fprintf(e.stderr, "sshwarden: note: journalctl: %s\n", note)
		}
		return rep, err
	case "-":
		return audit.ReadReport(os.Stdin, opt)
	}
	f, err := os.Open(input)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return audit.ReadReport(f, opt)
}

// parseWhen reads a --since or --until TIME (see reportUsage) relative to
// now, in the local time zone.
func parseWhen(s string, now time.Time) (time.Time, error) {
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()) }
	switch s {
	case "now":
		return now, nil
	case "today":
		return day(now), nil
	case "yesterday":
		return day(now).AddDate(0, 0, -1), nil
	}
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: want @ and seconds since 1970", s)
		}
		return time.Unix(n, 0), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	if d, err := parseAgo(strings.TrimPrefix(s, "-")); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want 2006-01-02, \"2006-01-02 15:04\", RFC 3339, today, yesterday, @SECONDS, or an age such as 24h or 7d", s)
}

// parseAgo is a Go duration, also in days (d) and weeks (w): "7d", "1w2d",
// "36h". It must be above 0.
func parseAgo(s string) (time.Duration, error) {
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			break
		}
		unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[rest[i]]
		if unit == 0 {
			break
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n > 10000 {
			return 0, errors.New("too long ago")
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return 0, err
		}
		total += d
	}
	if total <= 0 {
		return 0, errors.New("not above 0")
	}
	return total, nil
}
