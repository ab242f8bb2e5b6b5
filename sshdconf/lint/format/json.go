package format

import (
	"encoding/json"
	"fmt"
	"io"
)

// jsonFinding is a finding as the JSON contract of DESIGN.md has it, plus
// the related positions as FILE:LINE.
type jsonFinding struct {
	Check    string   `json:"check"`
	Severity string   `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Message  string   `json:"message"`
	Related  []string `json:"related,omitempty"`
	// Release is the OpenSSH release the file was read as.
	Release string `json:"openssh,omitempty"`
}

// JSON writes {"findings": [...]}, indented; an empty array, not null,
// when there is no finding.
func JSON(w io.Writer, fs []Finding) error { return jsonRun(w, fs, nil) }

// jsonRun is JSON, with "openssh": the releases the run read its
// configurations as (omitted when there are none), and each finding's.
func jsonRun(w io.Writer, fs []Finding, releases []string) error {
	out := []jsonFinding{}
	for _, f := range fs {
		j := jsonFinding{Check: f.Check, Severity: f.Severity.String(), File: f.File,
			Line: max(f.Pos.Line, 1), Column: max(f.Pos.Col, 1), Message: f.Message, Release: f.Release}
		for i, r := range f.Finding.Related {
			j.Related = append(j.Related, fmt.Sprintf("%s:%d", f.Related[i], r.Line))
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Releases []string      `json:"openssh,omitempty"`
		Findings []jsonFinding `json:"findings"`
	}{releases, out})
}
