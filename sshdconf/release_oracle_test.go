package sshdconf_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// The per-release differential tests: the random trees of generate_test.go
// (release-aware: they also write the keywords and Match criteria of other
// releases) and the corpus of testdata/trees, read by each release's real
// sshd (`sshd -t`, `sshd -T`, `sshd -T -C spec`) and by the model with
// LoadOptions.Release set to that release.
//
// SSHWARDEN_OPENSSH_RELEASES="8.7p1 10.0-debian" picks releases ("all":
// the twelve; default: oracle.CIReleases, the six CI builds);
// SSHWARDEN_ORACLE_SEEDS=N runs seeds 1..N per release (default 40),
// SSHWARDEN_ORACLE_SEED=N seed N alone.
//
// A difference is one of:
//   - verdict: sshd accepts and the model refuses, or the other way round;
//   - error: both refuse, with a different last line of stderr;
//   - value: both accept, and a keyword the tree sets is printed with a
//     different value (which value wins, Match, value syntax);
//   - printing: anything else sshd -T prints differently (defaults,
//     algorithm lists, keyword case, keywords one side does not print,
//     the order of the lines).
//
// Every kind fails the test; known differences, listed with their cause,
// are counted apart.

// oracleSeeds returns the seeds to run: SSHWARDEN_ORACLE_SEED, or 1..N
// with N from SSHWARDEN_ORACLE_SEEDS or def.
func oracleSeeds(t *testing.T, def uint64) []uint64 {
	if s := os.Getenv("SSHWARDEN_ORACLE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SSHWARDEN_ORACLE_SEED=%q: %v", s, err)
		}
		return []uint64{n}
	}
	count := def
	if s := os.Getenv("SSHWARDEN_ORACLE_SEEDS"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SSHWARDEN_ORACLE_SEEDS=%q: %v", s, err)
		}
		count = n
	}
	seeds := make([]uint64, 0, count)
	for i := uint64(1); i <= count; i++ {
		seeds = append(seeds, i)
	}
	return seeds
}

// relTally counts what one release's comparison found.
type relTally struct {
	mu                                 sync.Mutex
	trees, specs, accepted             int
	verdict, errLine, values, printing int
	known                              int
	printingKeywords                   map[string]int
}

func (c *relTally) add(d treeDiff, specs int, accepted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trees++
	c.specs += specs
	if accepted {
		c.accepted++
	}
	c.verdict += len(d.verdict)
	c.errLine += len(d.errLine)
	c.values += len(d.values)
	c.printing += len(d.printing)
	c.known += len(d.known)
	if c.printingKeywords == nil {
		c.printingKeywords = map[string]int{}
	}
	for _, k := range d.printingKeys {
		c.printingKeywords[k]++
	}
}

func (c *relTally) String() string {
	var keys []string
	for k, n := range c.printingKeywords {
		keys = append(keys, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(keys)
	return fmt.Sprintf("%d trees (%d accepted by sshd -t), %d specs: %d verdict, %d error line, %d value differences, %d known; %d printing differences %v",
		c.trees, c.accepted, c.specs, c.verdict, c.errLine, c.values, c.known, c.printing, keys)
}

// treeDiff is what differs between a release's sshd and the model on one
// tree, by class.
type treeDiff struct {
	verdict, errLine, values, printing []string
	printingKeys                       []string // the keywords of printing
	known                              []string // differences of a known cause (knownDiff)
}

// knownDiff returns the cause of a difference the model does not follow
// on purpose, or "".
func knownDiff(rel *sshdconf.Release, msg string) string {
	switch {
	case strings.Contains(msg, "Segmentation fault"):
		return "sshd crashed"
	case rel.Name() == "8.7p1" && strings.HasPrefix(msg, "persourcenetblocksize: "):
		// 8.7p1 leaves the IPv6 length of "PerSourceNetBlockSize N"
		// uninitialised (8.9 sets 0): sshd -T prints stack garbage.
		return "uninitialised in sshd"
	}
	return ""
}

// algorithmRefusal reports whether a refusal message is about algorithm
// names, which each release knows from its own lists (algorithms.go:
// rel-print's part).
func algorithmRefusal(msg string) bool {
	for _, s := range []string{"Bad key types", "Bad SSH2 cipher spec", "Bad SSH2 mac spec", "Bad SSH2 KexAlgorithms", "assemble_algorithms", "Bad GSSAPI KexAlgorithms"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func (d treeDiff) failures() []string {
	// Printing differences fail too: every line must be equal. (They are
	// classed apart only to say what kind of difference a failure is.)
	return slices.Concat(d.verdict, d.errLine, d.values, d.printing)
}

// algorithmKeywords print lists whose content is the release's defaults
// (algorithms.go), even when the tree sets them with +, - or ^.
var algorithmKeywords = map[string]bool{
	"ciphers": true, "macs": true, "kexalgorithms": true, "hostkeyalgorithms": true,
	"hostbasedacceptedalgorithms": true, "pubkeyacceptedalgorithms": true, "casignaturealgorithms": true,
	"gssapikexalgorithms": true, "hostbasedacceptedkeytypes": true, "pubkeyacceptedkeytypes": true,
}

// setKeywords returns the keywords (as sshd -T prints them, lower case) the
// files of a tree set, with the names the lines use as well.
func setKeywords(files map[string][]byte) map[string]bool {
	set := map[string]bool{}
	for _, b := range files {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '=' || r == '\r' })
			if len(f) == 0 || strings.HasPrefix(f[0], "#") {
				continue
			}
			name := strings.ToLower(strings.Trim(f[0], `"'`))
			set[name] = true
			if k := sshdconf.Lookup(name); k != nil && k.Printed() != "" {
				set[k.Printed()] = true
			}
		}
	}
	return set
}

// compareRelease runs the tree through the release's sshd and the model
// read as rel, for each spec ("-t", "" for plain -T, or a -C spec), and
// classifies what differs. It returns whether sshd -t accepted the tree.
func compareRelease(t *testing.T, o *oracle.Oracle, rel *sshdconf.Release, files map[string][]byte, main string, specs []string) (treeDiff, bool) {
	t.Helper()
	var d treeDiff
	res, err := o.Run(files, main, specs)
	if err != nil {
		t.Fatal(err)
	}
	abs := map[string][]byte{}
	for n, b := range files {
		abs["/"+n] = b
	}
	cfg, err := sshdconf.Load(memfs.New(abs), main, &sshdconf.LoadOptions{Release: rel, Users: oracleUsers(o), Services: sshdconf.ServicesFile(os.DirFS("/"))})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	set := setKeywords(files)
	canon := o.Release().Canon
	defaults := releaseDefaults(t, o)
	accepted := true
	// refusal compares a refusal of sshd (exit, stderr) with the model's
	// (err); where is the spec's name in messages.
	refusal := func(where string, exit int, stderr string, err error) {
		want := canon(lastLine(stderr))
		got := ""
		if dg, ok := err.(sshdconf.Diag); ok {
			got = dg.SSHD
		}
		switch {
		case exit == 0 && err == nil:
		case exit != 0 && err != nil && got == want:
		case knownDiff(rel, want) != "":
			d.known = append(d.known, fmt.Sprintf("[%s] %s: sshd %q, the model %v", where, knownDiff(rel, want), want, err))
		case algorithmRefusal(want) || algorithmRefusal(got):
			d.printing = append(d.printing, fmt.Sprintf("[%s] sshd %q (exit %d), the model %v", where, want, exit, err))
			d.printingKeys = append(d.printingKeys, "(algorithm names)")
		case exit == 0 && newKeywordUnparsed(err):
			d.printing = append(d.printing, fmt.Sprintf("[%s] sshd accepts, the model refuses: %v", where, err))
			d.printingKeys = append(d.printingKeys, "(unparsed new keyword)")
		case exit == 0:
			d.verdict = append(d.verdict, fmt.Sprintf("[%s] sshd accepts, the model refuses: %v", where, err))
		case err == nil:
			d.verdict = append(d.verdict, fmt.Sprintf("[%s] sshd refuses (%s), the model accepts", where, want))
		default:
			if newKeywordUnparsed(err) {
				// A keyword the model knows but does not read yet (a
				// new keyword's value: rel-print's part).
				d.printing = append(d.printing, fmt.Sprintf("[%s] sshd says %q, the model %q", where, want, got))
				d.printingKeys = append(d.printingKeys, "(unparsed new keyword)")
			} else if got != want {
				d.errLine = append(d.errLine, fmt.Sprintf("[%s] sshd says %q, the model %q", where, want, got))
			}
		}
	}
	for i, spec := range specs {
		r := res[i]
		if spec == "-t" {
			accepted = r.Exit == 0
			refusal("-t", r.Exit, r.Stderr, cfg.Err())
			continue
		}
		where := "-T"
		if spec != "" {
			where = spec
		}
		cs, err := sshdconf.ParseConnSpec(spec)
		if err != nil {
			t.Fatalf("bad spec %q: %v", spec, err)
		}
		eff, err := cfg.Effective(cs)
		if r.Exit != 0 || err != nil {
			refusal(where, r.Exit, r.Stderr, err)
			continue
		}
		want := strings.Split(strings.TrimRight(canon(r.Stdout), "\n"), "\n")
		values, printing, keys := classifyLines(want, eff.Settings, set, defaults)
		for _, v := range values {
			if why := knownDiff(rel, v); why != "" {
				d.known = append(d.known, fmt.Sprintf("[%s] %s: %s", where, why, v))
				continue
			}
			d.values = append(d.values, fmt.Sprintf("[%s] %s", where, v))
		}
		for _, v := range printing {
			d.printing = append(d.printing, fmt.Sprintf("[%s] %s", where, v))
		}
		d.printingKeys = append(d.printingKeys, keys...)
	}
	return d, accepted
}

// newKeywordUnparsed reports whether err is the model's refusal of a
// keyword it knows but has no reader for yet (the new keywords' values are
// rel-print's part; their entries exist so that releases know them).
func newKeywordUnparsed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Missing handler for opcode")
}

var (
	defaultsMu sync.Mutex
	defaultsOf = map[string]map[string][]string{}
)

// releaseDefaults returns what the release's sshd -T prints for an empty
// sshd_config, by keyword (lower case), once per release.
func releaseDefaults(t *testing.T, o *oracle.Oracle) map[string][]string {
	t.Helper()
	defaultsMu.Lock()
	defer defaultsMu.Unlock()
	name := o.Release().Name
	if m, ok := defaultsOf[name]; ok {
		return m
	}
	res, err := o.Run(map[string][]byte{"etc/ssh/sshd_config": nil}, "/etc/ssh/sshd_config", []string{"user=nobody,host=h,addr=192.0.2.200,laddr=192.0.2.201,lport=22"})
	if err != nil || res[0].Exit != 0 {
		t.Fatalf("%s: sshd -T on an empty sshd_config: %v %s", name, err, res[0].Stderr)
	}
	m := map[string][]string{}
	for _, l := range strings.Split(strings.TrimRight(o.Release().Canon(res[0].Stdout), "\n"), "\n") {
		k, v, _ := strings.Cut(l, " ")
		k = strings.ToLower(k)
		m[k] = append(m[k], v)
	}
	defaultsOf[name] = m
	return m
}

// printedAlike reports whether two values of a keyword differ only in how
// they are printed: a trailing blank (9.6's subsystem), the name printed
// for a value (prohibit-password, true, QUIET).
func printedAlike(a, b []string) bool {
	word := func(v string) string {
		switch strings.ToLower(v) {
		case "prohibit-password":
			return "without-password"
		case "true":
			return "yes"
		case "false":
			return "no"
		case "quiet":
			return "SILENT"
		case "reliability", "0x04": // 8.2 to 8.7 print 0x04 by this name
			return "le"
		case "0x08": // 10.0 on print the deprecated ToS values in hex
			return "throughput"
		case "0x10":
			return "lowdelay"
		}
		return v
	}
	norm := func(v string) string {
		f := strings.Fields(v)
		for i := range f {
			f[i] = word(f[i])
		}
		return strings.Join(f, " ")
	}
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if norm(a[i]) != norm(b[i]) {
			return false
		}
	}
	return true
}

// classifyLines compares sshd -T's lines (want) with the model's settings
// (got) by keyword, compared without case (the case sshd prints keywords
// in is printing). A keyword whose lines differ is a printing difference
// when only one side prints it, when it is an algorithm list, when the
// values differ only in how they are printed, or when the model prints its
// default and sshd its own (defaults: what the release prints for an empty
// config); it is a value difference when the tree sets it otherwise.
func classifyLines(want []string, got []sshdconf.Setting, set map[string]bool, defaults map[string][]string) (values, printing, printingKeys []string) {
	w := map[string][]string{}
	var keys []string
	for _, l := range want {
		k, v, _ := strings.Cut(l, " ")
		k = strings.ToLower(k)
		if _, ok := w[k]; !ok {
			keys = append(keys, k)
		}
		w[k] = append(w[k], v)
	}
	g := map[string][]string{}
	modelDefault := map[string]bool{}
	for _, s := range got {
		k := strings.ToLower(s.Keyword)
		if s.Name != "" {
			k = strings.ToLower(s.Name) // the name the release prints (pubkeyacceptedkeytypes before 8.5)
		}
		if _, ok := g[k]; !ok {
			modelDefault[k] = true
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		g[k] = append(g[k], s.Value)
		modelDefault[k] = modelDefault[k] && s.Pos.IsDefault()
	}
	for _, k := range keys {
		wv, inW := w[k]
		gv, inG := g[k]
		if slices.Equal(wv, gv) {
			continue
		}
		msg := fmt.Sprintf("%s: sshd %q, model %q", k, wv, gv)
		if !inW {
			msg = fmt.Sprintf("%s: only the model prints %q", k, gv)
		} else if !inG {
			msg = fmt.Sprintf("%s: only sshd prints %q", k, wv)
		}
		isPrinting := !inW || !inG || algorithmKeywords[k] || printedAlike(wv, gv) ||
			modelDefault[k] && slices.Equal(wv, defaults[k]) || !set[k]
		if !isPrinting {
			values = append(values, msg)
			continue
		}
		printing = append(printing, msg)
		printingKeys = append(printingKeys, k)
	}
	// The order of the lines is printing too.
	if len(values)+len(printing) > 0 {
		return values, printing, printingKeys
	}
	var gotLines []string
	for _, s := range got {
		gotLines = append(gotLines, s.String())
	}
	if d := lineDiff(want, gotLines); d != "" {
		printing = append(printing, "order:\n"+d)
		printingKeys = append(printingKeys, "(order)")
	}
	return values, printing, printingKeys
}

// reportDiff fails t with d's failures and logs its printing differences
// (a few) when they do not fail it.
func reportDiff(t *testing.T, name string, d treeDiff, replay string) {
	t.Helper()
	for _, k := range d.known {
		t.Logf("%s: known: %s", name, k)
	}
	if f := d.failures(); len(f) > 0 {
		t.Errorf("%s: %d differences:\n  %s\n%s", name, len(f), strings.Join(f, "\n  "), replay)
	}
}

// TestReleasesRandomTreesAgainstSSHD compares the model of each release
// with that release's sshd on the random trees of generateReleaseTree.
// The subtests run one after the other: each run mounts a private
// namespace, and concurrent ones only slow each other down.
func TestReleasesRandomTreesAgainstSSHD(t *testing.T) {
	seeds := oracleSeeds(t, 40)
	var summary []string
	oracle.ForEachRelease(t, func(t *testing.T, o *oracle.Oracle) {
		name := o.Release().Name
		rel := sshdconf.MustRelease(name)
		tally := &relTally{}
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				tree := generateReleaseTree(seed, rel)
				specs := append([]string{"-t", ""}, tree.specs...)
				d, accepted := compareRelease(t, o, rel, tree.files, tree.main, specs)
				tally.add(d, len(specs), accepted)
				reportDiff(t, fmt.Sprintf("%s seed %d", name, seed), d,
					fmt.Sprintf("replay: SSHWARDEN_OPENSSH_RELEASES=%s SSHWARDEN_ORACLE_SEED=%d go test ./sshdconf -run 'TestReleasesRandomTreesAgainstSSHD' -count=1 -v\n%s", name, seed, tree.dump()))
				if len(seeds) == 1 {
					for _, p := range d.printing {
						t.Logf("printing: %s", p)
					}
					t.Logf("seed %d:\n%s", seed, tree.dump())
				}
			})
		}
		t.Logf("%s: %s", name, tally)
		summary = append(summary, fmt.Sprintf("%-12s %s", name, tally))
	})
	t.Logf("random trees, per release:\n%s", strings.Join(summary, "\n"))
}

// TestReleasesCorpusAgainstSSHD compares the model of each release with
// that release's sshd on every tree of testdata/trees, for each
// connection spec the tree names.
func TestReleasesCorpusAgainstSSHD(t *testing.T) {
	paths, err := filepath.Glob("../testdata/trees/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no trees: %v", err)
	}
	var summary []string
	oracle.ForEachRelease(t, func(t *testing.T, o *oracle.Oracle) {
		name := o.Release().Name
		rel := sshdconf.MustRelease(name)
		tally := &relTally{}
		for _, p := range paths {
			tree := strings.TrimSuffix(filepath.Base(p), ".txtar")
			t.Run(tree, func(t *testing.T) {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				a := oracle.ParseArchive(b)
				specs := append([]string{"-t", ""}, a.Specs...)
				d, accepted := compareRelease(t, o, rel, a.Files, a.Main, specs)
				tally.add(d, len(specs), accepted)
				reportDiff(t, name+" "+tree, d, "")
			})
		}
		t.Logf("%s: %s", name, tally)
		summary = append(summary, fmt.Sprintf("%-12s %s", name, tally))
	})
	t.Logf("corpus, per release:\n%s", strings.Join(summary, "\n"))
}
