package format

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

// SARIF 2.1.0, as GitHub code scanning reads it.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
	// Properties (a SARIF property bag) name the OpenSSH releases read.
	Properties *sarifReleases `json:"properties,omitempty"`
}

// sarifReleases is the property bag of a run ("openssh": the releases the
// run read its configurations as) and of a result (its file's release).
type sarifReleases struct {
	OpenSSH any `json:"openssh"`
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
	Properties       *sarifReleases  `json:"properties,omitempty"`
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

// SARIF writes a SARIF 2.1.0 log, as GitHub code scanning reads it: one
// run of the tool sshwarden at version, every check a rule, every finding
// a result with its related locations. A relative file name is a relative
// URI (GitHub resolves it against the repository), an absolute one a file:
// URI.
func SARIF(w io.Writer, fs []Finding, version string) error {
	return writeSARIF(w, fs, Run{Version: version})
}

// writeSARIF is SARIF, with the releases the run read its configurations
// as in the run's property bag "openssh", and each result's in its own.
func writeSARIF(w io.Writer, fs []Finding, run Run) error {
	version := run.Version
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
		if f.Release != "" {
			res.Properties = &sarifReleases{OpenSSH: f.Release}
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
	if len(run.Releases) > 0 {
		log.Runs[0].Properties = &sarifReleases{OpenSSH: run.Releases}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
