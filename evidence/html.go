package evidence

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once; html/template escapes every value by its
// context, so a user name or a config comment holding <script> is text.
var htmlTemplate = template.Must(template.New("evidence").Funcs(template.FuncMap{
	"upper": strings.ToUpper,
	"gap":   gapText,
	"time":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"day":   func(t time.Time) string { return t.Format("2006-01-02") },
}).Parse(htmlSource))

// Bar is one bar of a chart, laid out in the SVG's units.
type Bar struct {
	X, Y, W, H float64
	Label      string // under the bar
	Value      int
}

// Chart is a bar chart drawn as inline SVG.
type Chart struct {
	Title         string
	Width, Height float64
	Bars          []Bar
	Empty         string // said instead when there is nothing to draw
}

// barChart lays out values as bars in a 640x160 area (labels below).
func barChart(title string, labels []string, values []int, empty string) Chart {
	c := Chart{Title: title, Width: 640, Height: 190, Empty: empty}
	top := 0
	for _, v := range values {
		top = max(top, v)
	}
	if top == 0 {
		return c
	}
	c.Empty = ""
	w := 600 / float64(len(values))
	for i, v := range values {
		h := 150 * float64(v) / float64(top)
		c.Bars = append(c.Bars, Bar{X: 20 + float64(i)*w + w*0.1, Y: 160 - h, W: w * 0.8, H: h, Label: labels[i], Value: v})
	}
	return c
}

// htmlData is what the template reads.
type htmlData struct {
	*Report
	VerdictRows []KindVerdict
	Mechs       []Mechanism
	ProfileName string
	Limit       string
	Charts      []Chart
}

// WriteHTML writes the report as one self-contained HTML page: styles and
// charts (SVG) inline, no script, no external fetch; a print stylesheet
// lays it out on A4.
func (r *Report) WriteHTML(w io.Writer) error {
	d := htmlData{Report: r, VerdictRows: r.verdict, Mechs: r.mechs}
	if r.profile != nil {
		d.ProfileName, d.Limit = r.profile.Title, fmtDuration(r.profile.Limit)
	}
	if r.Trail != nil {
		var labels []string
		var vals []int
		for _, dc := range r.Trail.ClosesByDay {
			labels = append(labels, dc.Day[5:])
			vals = append(vals, dc.Closes)
		}
		d.Charts = append(d.Charts, barChart("Closes per day", labels, vals, "No session was closed in this period."))
		labels, vals = nil, nil
		for _, b := range r.Trail.IdleAtClose.Buckets {
			l := "more"
			if b.LESeconds > 0 {
				l = "≤" + fmtDuration(time.Duration(b.LESeconds)*time.Second)
			}
			labels = append(labels, l)
			vals = append(vals, b.Count)
		}
		d.Charts = append(d.Charts, barChart("Idle time at close", labels, vals, "No idle close in this period."))
	}
	return htmlTemplate.Execute(w, d)
}

// String is the status shown for a kind.
func (v KindVerdict) String() string {
	if v.Closed {
		return fmt.Sprintf("closed after %s", fmtDuration(v.Limit))
	}
	return "never closed"
}
