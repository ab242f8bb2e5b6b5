// Package format writes lint findings in the output formats of
// `sshwarden lint --format`: text for people, JSON (the contract of
// DESIGN.md), SARIF 2.1.0 for GitHub code scanning, and GitHub Actions
// workflow commands, which GitHub shows as annotations.
//
// Every format reports the same findings in the order given; a position
// without a line or column (a whole file) is shown at line 1, column 1.
package format

import (
	"bufio"
	"fmt"
	"io"
	"slices"

	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// Finding is a lint finding with the names under which its files are
// shown: as the user gave them (a path under --root, say), not as sshd
// reads them.
type Finding struct {
	lint.Finding
	File    string   // the name of Finding.Pos.File to show
	Related []string // the name to show for each of Finding.Related
	// Release names the OpenSSH release the finding's configuration was
	// read as ("10.0-debian", sshdconf.Release.Name); "" when not known.
	Release string
}

// Run is what a whole lint run says beside its findings.
type Run struct {
	Version string // the tool's version, which SARIF carries
	// Releases name the OpenSSH releases the run read its configurations
	// as (sshdconf.Release.Name), in the order first met; JSON and SARIF
	// carry them.
	Releases []string
}

// Names lists the formats Write knows, as --format takes them.
func Names() []string { return []string{"text", "json", "sarif", "github"} }

// Known says whether Write knows the format name.
func Known(name string) bool { return slices.Contains(Names(), name) }

// Write writes the findings in the format name (one of [Names]) through a
// buffer: a fleet's run prints thousands of lines, each a system call
// otherwise. version is the tool's version, which SARIF carries. An error
// is a failed write, or an unknown format.
func Write(out io.Writer, name string, fs []Finding, version string) error {
	return WriteRun(out, name, fs, Run{Version: version})
}

// WriteRun is [Write] with what the run says beside its findings: JSON
// and SARIF name the releases the configurations were read as, at the top
// and per finding.
func WriteRun(out io.Writer, name string, fs []Finding, run Run) error {
	w := bufio.NewWriterSize(out, 64<<10)
	var err error
	switch name {
	case "text":
		err = Text(w, fs)
	case "json":
		err = jsonRun(w, fs, run.Releases)
	case "sarif":
		err = writeSARIF(w, fs, run)
	case "github":
		err = GitHub(w, fs)
	default:
		return fmt.Errorf("unknown format %q", name)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// Text writes one line per finding: FILE:LINE:COL: SEVERITY: MESSAGE (CHECK).
func Text(w io.Writer, fs []Finding) error {
	for _, f := range fs {
		if _, err := fmt.Fprintf(w, "%s: %s: %s (%s)\n", location(f), f.Severity, f.Message, f.Check); err != nil {
			return err
		}
	}
	return nil
}

// location is FILE:LINE:COL, with 1 for an unknown line or column.
func location(f Finding) string {
	return fmt.Sprintf("%s:%d:%d", f.File, max(f.Pos.Line, 1), max(f.Pos.Col, 1))
}
