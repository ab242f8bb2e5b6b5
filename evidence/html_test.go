package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sshwarden/sshwarden/audit"
	"github.com/sshwarden/sshwarden/internal/sshdtest"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
)

const hostile = `<script>alert("x")</script><img src=http://192.0.2.1/x>`

// hostileReport is a report whose user names, policy patterns, config
// lines and TMOUT value carry markup and a fetch.
func hostileReport(t *testing.T) *Report {
	t.Helper()
	dir := writeTree(t, map[string]string{
		"etc/ssh/sshd_config":     "ClientAliveInterval 300\nMatch User alice\n    ChannelTimeout session:*=10m # " + hostile + "\n",
		"etc/profile.d/tmout.sh":  "TMOUT='" + hostile + "'\n",
		"etc/systemd/logind.conf": "[Login]\nStopIdleSessionSec=600\n",
	})
	root, err := sshdconf.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sshdconf.Load(root, "/etc/ssh/sshd_config", &sshdconf.LoadOptions{Release: sshdconf.MustRelease("9.2-debian")})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse("/etc/sshwarden/policy.conf", []byte("IdleTimeout 15m\nMatch User \"*<script>*\"\n    Exempt yes\n"))
	if err != nil {
		t.Fatal(err)
	}
	var trail bytes.Buffer
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	rec := func(at time.Time, kv ...string) {
		m := map[string]string{"__REALTIME_TIMESTAMP": jsonInt(at.UnixMicro()), "SYSLOG_IDENTIFIER": "sshwarden"}
		for _, f := range kv {
			k, v, _ := strings.Cut(f, "=")
			m[k] = v
		}
		b, _ := json.Marshal(m)
		trail.Write(append(b, '\n'))
	}
	rec(base, "SSHWARDEN_ACTION=agent-started")
	for i := range 12 {
		at := base.Add(time.Duration(i) * 13 * time.Hour)
		user := "alice"
		if i%3 == 0 {
			user = hostile
		}
		for _, a := range []string{"warn", "close"} {
			rec(at, "SSHWARDEN_ACTION="+a, "SSHWARDEN_PID=4"+jsonInt(int64(i)), "SSHWARDEN_REASON=idle", "SSHWARDEN_USER="+user,
				"SSHWARDEN_IDLE_SECONDS="+jsonInt(int64(600+i*200)), "SSHWARDEN_RULE=/etc/sshwarden/policy.conf:1")
		}
	}
	rec(base.Add(50*time.Hour), "SSHWARDEN_ACTION=agent-stopped")
	rec(base.Add(53*time.Hour), "SSHWARDEN_ACTION=agent-started")
	rep, err := audit.ReadReport(&trail, audit.ReportOptions{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return Build(Sources{FS: root, SSHD: cfg, Policy: pol, Service: Service{Systemd: true, Enabled: "enabled", Active: "active"},
		Logind: true, Trail: rep, TrailSince: base, Profile: LookupProfile("pci"), Host: "web-1" + hostile, OS: "Debian GNU/Linux 12 (bookworm)",
		Now: base.Add(20 * 24 * time.Hour)})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestHTMLInChromium renders the HTML report in a real headless Chromium:
// a screenshot and an A4 PDF print are made, the rendered DOM has every
// section and not one element made from the hostile strings, and the
// browser's network log shows no request but the page itself.
func TestHTMLInChromium(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		sshdtest.Missing(t, "no chromium (apt-get install chromium)")
	}
	r := hostileReport(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "evidence.html")
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script") || strings.Contains(buf.String(), "<img") {
		t.Fatalf("the page holds markup from the input:\n%s", buf.String())
	}
	run := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		// The browser's own traffic (updates, time, spell-check
		// dictionaries, accounts) is switched off, and what would remain
		// resolves no name and goes to a closed local proxy: nothing
		// leaves the machine, and the net log shows what the page asked.
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--hide-scrollbars",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
			"--no-default-browser-check", "--disable-client-side-phishing-detection", "--disable-domain-reliability",
			"--no-pings", "--disable-features=Translate,OptimizationHints,MediaRouter,SpellCheck,AutofillServerCommunication,NetworkTimeServiceQuerying",
			"--disable-breakpad", "--metrics-recording-only",
			"--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"}
		cmd := exec.CommandContext(ctx, browser, append(append(base, args...), "file://"+page)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return out
	}
	netlog := filepath.Join(dir, "net.json")
	dom := string(run("--dump-dom", "--log-net-log="+netlog, "--net-log-capture-mode=Default"))
	for _, id := range []string{`id="title"`, `id="overall"`, `id="verdict"`, `id="controls"`, `id="mechanisms"`, `id="settings"`, `id="trail"`, `id="files"`} {
		if !strings.Contains(dom, id) {
			t.Errorf("the rendered page has no %s", id)
		}
	}
	if strings.Contains(dom, "<script") || strings.Contains(dom, "<img") {
		t.Errorf("the rendered DOM holds an element made from the input")
	}
	if !strings.Contains(dom, "&lt;script&gt;alert") {
		t.Errorf("the hostile strings are not shown as text")
	}
	if n := strings.Count(dom, `<rect class="bar"`); n < 4 {
		t.Errorf("%d bars in the charts, want the closes per day and idle times", n)
	}
	for _, u := range pageRequests(t, netlog) {
		t.Errorf("the page made a request: %s", u)
	}
	// The same check on a page that does fetch finds the fetch (the
	// browser sends it to the closed local proxy: nothing leaves).
	control := filepath.Join(dir, "control.html")
	if err := os.WriteFile(control, []byte(`<html><body><img src="http://192.0.2.1/x.png"></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	page0 := page
	page = control
	run("--dump-dom", "--log-net-log="+netlog+".control", "--net-log-capture-mode=Default")
	page = page0
	if got := pageRequests(t, netlog+".control"); len(got) == 0 {
		t.Errorf("the net log check misses a page's request (control page)")
	}
	png := filepath.Join(dir, "evidence.png")
	run("--screenshot="+png, "--window-size=1280,2200")
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) || len(b) < 20000 {
		t.Errorf("screenshot: %d bytes, %v", len(b), err)
	}
	pdf := filepath.Join(dir, "evidence.pdf")
	run("--print-to-pdf="+pdf, "--no-pdf-header-footer")
	b, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("PDF: %v", err)
	}
	// A4 is 595 x 842 points (Chromium writes 594.96 x 841.92).
	if !bytes.Contains(b, []byte("/MediaBox [0 0 594.9")) {
		t.Errorf("the PDF is not A4 (no 595 x 842-point MediaBox)")
	}
	if out := os.Getenv("SSHWARDEN_EVIDENCE_SHOTS"); out != "" {
		for _, f := range []string{png, pdf, page} {
			data, _ := os.ReadFile(f)
			_ = os.WriteFile(filepath.Join(out, filepath.Base(f)), data, 0o644)
		}
	}
}

// pageRequests lists the requests a page made, from a Chromium net log:
// URL_REQUEST_START_JOB events whose initiator is an origin (the page's,
// "null" for a file), not the browser's own ("not an origin").
func pageRequests(t *testing.T, netlog string) []string {
	t.Helper()
	b, err := os.ReadFile(netlog)
	if err != nil {
		t.Fatal(err)
	}
	var nl struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int            `json:"type"`
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(fixNetLog(b), &nl); err != nil {
		t.Fatalf("net log: %v", err)
	}
	start, ok := nl.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		t.Fatal("net log: no URL_REQUEST_START_JOB event type")
	}
	var out []string
	for _, e := range nl.Events {
		u, _ := e.Params["url"].(string)
		if e.Type != start || u == "" || e.Params["initiator"] == "not an origin" || strings.HasPrefix(u, "file://") || strings.HasPrefix(u, "data:") {
			continue
		}
		out = append(out, u)
	}
	return out
}

// fixNetLog makes a net log parse that chromium did not finish (cut
// after an event's ",").
func fixNetLog(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if json.Valid(b) {
		return b
	}
	return append(bytes.TrimSuffix(b, []byte(",")), []byte("]}")...)
}
