package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

type jsonFinding struct {
	Check    string   `json:"check"`
	Severity string   `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Message  string   `json:"message"`
	Related  []string `json:"related,omitempty"`
}

func jsonFindings(fs []lintedFile) []jsonFinding {
	out := []jsonFinding{}
	for _, f := range fs {
		j := jsonFinding{Check: f.Check, Severity: f.Severity.String(), File: f.File,
			Line: max(f.Pos.Line, 1), Column: max(f.Pos.Col, 1), Message: f.Message}
		for i, r := range f.Finding.Related {
			j.Related = append(j.Related, fmt.Sprintf("%s:%d", f.Related[i], r.Line))
		}
		out = append(out, j)
	}
	return out
}

func writeJSON(w io.Writer, fs []lintedFile) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Findings []jsonFinding `json:"findings"`
	}{jsonFindings(fs)})
}

// writeGitHub prints GitHub Actions workflow commands, which GitHub shows as
// annotations on the files of the pull request.
func writeGitHub(w io.Writer, fs []lintedFile) error {
	for _, f := range fs {
		cmd := map[lint.Severity]string{lint.Error: "error", lint.Warning: "warning", lint.Info: "notice"}[f.Severity]
		fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", cmd,
			ghProperty(f.File), max(f.Pos.Line, 1), max(f.Pos.Col, 1), ghProperty(f.Check), ghData(f.Message))
	}
	return nil
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// SARIF 2.1.0, as GitHub code scanning reads it.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string    `json:"id"`
	ShortDescription     sarifText `json:"shortDescription"`
	FullDescription      sarifText `json:"fullDescription"`
	Help                 sarifText `json:"help"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

type sarifResult struct {
	RuleID           string          `json:"ruleId"`
	RuleIndex        int             `json:"ruleIndex"`
	Level            string          `json:"level"`
	Message          sarifText       `json:"message"`
	Locations        []sarifLocation `json:"locations"`
	RelatedLocations []sarifLocation `json:"relatedLocations,omitempty"`
}

type sarifLocation struct {
	ID               int `json:"id,omitempty"`
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region struct {
			StartLine   int `json:"startLine"`
			StartColumn int `json:"startColumn,omitempty"`
		} `json:"region"`
	} `json:"physicalLocation"`
}

func sarifLevel(s lint.Severity) string {
	switch s {
	case lint.Error:
		return "error"
	case lint.Warning:
		return "warning"
	}
	return "note"
}

// sarifURI is a relative path as given (GitHub resolves it against the
// repository), or a file URI for an absolute one.
func sarifURI(p string) string {
	p = filepath.ToSlash(p)
	if strings.HasPrefix(p, "/") {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}

func newLocation(file string, line, col int) sarifLocation {
	var l sarifLocation
	l.PhysicalLocation.ArtifactLocation.URI = sarifURI(file)
	l.PhysicalLocation.Region.StartLine = max(line, 1)
	l.PhysicalLocation.Region.StartColumn = max(col, 1)
	return l
}

func writeSARIF(w io.Writer, fs []lintedFile) error {
	checks := lint.Checks()
	index := map[string]int{}
	var rules []sarifRule
	for i, c := range checks {
		index[c.Name] = i
		r := sarifRule{ID: c.Name, ShortDescription: sarifText{c.Short()}, FullDescription: sarifText{c.Doc},
			Help: sarifText{c.Doc + " Disable with --disable " + c.Name + "."}}
		r.DefaultConfiguration.Level = sarifLevel(c.Severity)
		rules = append(rules, r)
	}
	results := []sarifResult{}
	for _, f := range fs {
		res := sarifResult{RuleID: f.Check, RuleIndex: index[f.Check], Level: sarifLevel(f.Severity),
			Message:   sarifText{f.Message},
			Locations: []sarifLocation{newLocation(f.File, f.Pos.Line, f.Pos.Col)}}
		for i, r := range f.Finding.Related {
			l := newLocation(f.Related[i], r.Line, r.Col)
			l.ID = i + 1
			res.RelatedLocations = append(res.RelatedLocations, l)
		}
		results = append(results, res)
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{Name: "sshwarden", Version: version,
				InformationURI: "https://github.com/sshwarden/sshwarden", Rules: rules}},
			Results: results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
