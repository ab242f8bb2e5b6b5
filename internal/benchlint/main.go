// Command benchlint compares linting many sshd configuration trees in one
// process with asking the real sshd about each of them (`make bench-lint`).
//
// It writes N trees to a temporary directory, each a Debian 12 stock
// sshd_config that includes its own sshd_config.d/*.conf, one to four
// drop-ins (cloud-init, hardening, crypto, Match blocks) with values varied
// from a fixed seed, and a copy of one host key. Then:
//
//   - the model: in this process, for every tree, sshdconf.Load and
//     lint.Run with every check and the requirements of builtin:default,
//     timed as a whole; the first run (cold), the best of the later runs
//     (warm), and the best with one tree per core;
//   - where its time goes: the same with every file already in memory, and
//     the file reads alone (the system calls Load makes, no parsing), which
//     bound the ratio on the machine whatever the parsing costs;
//   - with -sshwarden BIN (as `make bench-lint` runs it), the command
//     itself: `sshwarden lint --policy builtin:default FILE...` on every
//     tree in one process, on one core and on all; it must print as many
//     findings as the model found;
//   - the reference: for every tree, `sshd -T -f D/sshd_config -C ...`,
//     one process after the other, timed as a whole.
//
// It prints the times and their ratios, and exits 1 when an sshd run fails,
// the model refuses a tree sshd accepts (or the other way round) or the
// command disagrees with the model. Run it as root with openssh-server
// installed (sshd -T needs /run/sshd and reads the host key).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"text/tabwriter"
	"time"

	"github.com/sshwarden/sshwarden/internal/oracle"
	"github.com/sshwarden/sshwarden/policy"
	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/lint"
)

const (
	spec      = "user=alice,host=h,addr=192.0.2.10,laddr=192.0.2.1,lport=22"
	warmRuns  = 10
	seed1     = 0x5eed
	seed2     = 0x11a7
	policyRef = "builtin:default"
)

func main() {
	n := flag.Int("n", 300, "number of configuration `trees`")
	keep := flag.Bool("keep", false, "keep the temporary directory with the trees")
	sshd := flag.String("sshd", "/usr/sbin/sshd", "the sshd `binary` to compare with")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the model's warm runs to `file`")
	flag.StringVar(&command, "sshwarden", "", "also time this sshwarden `binary` linting every tree in one run")
	flag.Parse()
	if *n < 1 {
		fatalf("-n %d: want at least 1 tree", *n)
	}
	if _, err := os.Stat(*sshd); err != nil {
		fatalf("%v (apt-get install openssh-server)", err)
	}
	// sshd -T exits 255 without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		fatalf("install -d /run/sshd: %v", err)
	}

	tmp, err := os.MkdirTemp("", "benchlint")
	if err != nil {
		fatalf("%v", err)
	}
	code := run(tmp, *n, *sshd)
	if *keep {
		fmt.Printf("trees kept in %s\n", tmp)
	} else {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

var cpuProfile, command string

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchlint: "+format+"\n", args...)
	os.Exit(2)
}

// result is what one side said about one tree.
type result struct {
	accepted bool
	msg      string // why it was refused
}

func run(tmp string, n int, sshd string) int {
	key, err := hostKey(tmp)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchlint: %v\n", err)
		return 2
	}
	stock, err := stockConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchlint: %v\n", err)
		return 2
	}
	dirs := make([]string, n)
	files, withMatch := 0, 0
	rng := rand.New(rand.NewPCG(seed1, seed2))
	for i := range dirs {
		dirs[i] = filepath.Join(tmp, fmt.Sprintf("t%04d", i))
		nf, match, err := writeTree(dirs[i], stock, key, rng)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchlint: %v\n", err)
			return 2
		}
		files += nf
		if match {
			withMatch++
		}
	}

	// The model: the first run, then the best of warmRuns more.
	cold, model, st, err := lintAll(dirs, 1)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchlint: %v\n", err)
		return 2
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchlint: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "benchlint: %v\n", err)
			return 2
		}
	}
	warm := cold
	for range warmRuns {
		d, _, _, _ := lintAll(dirs, 1)
		warm = min(warm, d)
	}
	pprof.StopCPUProfile()

	// The reference: sshd -T -C on every tree, one after the other.
	ref := make([]result, n)
	var sshdOut []string
	start := time.Now()
	for i, d := range dirs {
		cmd := exec.Command(sshd, "-T", "-f", d+"/sshd_config", "-C", spec)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		ref[i] = result{accepted: err == nil, msg: strings.TrimSpace(stderr.String())}
		if err != nil && ref[i].msg == "" {
			ref[i].msg = err.Error()
		}
		sshdOut = append(sshdOut, stdout.String())
	}
	sshdTime := time.Since(start)

	// Agreement, outside the timed phases: acceptance must match; the
	// effective configuration is compared too, for information.
	bad := 0
	for i, d := range dirs {
		if !ref[i].accepted {
			bad++
			fmt.Fprintf(os.Stderr, "FAIL %s: sshd -T refused it: %s\n", d, ref[i].msg)
		}
		if model[i].accepted != ref[i].accepted {
			bad++
			why := ""
			if model[i].msg != "" {
				why = " (model: " + model[i].msg + ")"
			}
			fmt.Fprintf(os.Stderr, "FAIL %s: the model %s it, sshd %s it%s\n", d, verb(model[i].accepted), verb(ref[i].accepted), why)
		}
	}
	same, firstDiff := compareEffective(dirs, sshdOut, ref)

	fmt.Printf("bench-lint: %d trees (%d files, %d trees with Match blocks), %s\n", n, files, withMatch, sshdVersion(sshd))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, total time.Duration, r string) {
		fmt.Fprintf(w, "%-38s\t%s\t%s\t%s\t\n", label, round(total), round(total/time.Duration(n)), r)
	}
	fmt.Fprintf(w, "%-38s\ttotal\tper tree\tsshd/model\t\n", "")
	row("model: load + lint, cold (1st run)", cold, fmt.Sprintf("%.0fx", ratio(sshdTime, cold)))
	row(fmt.Sprintf("model: load + lint, warm (best of %d)", warmRuns), warm, fmt.Sprintf("%.0fx", ratio(sshdTime, warm)))
	workers := runtime.GOMAXPROCS(0)
	par := time.Duration(1<<63 - 1)
	for range warmRuns {
		d, _, _, _ := lintAll(dirs, workers)
		par = min(par, d)
	}
	row(fmt.Sprintf("model: warm, %d trees at a time (one per core)", workers), par, fmt.Sprintf("%.0fx", ratio(sshdTime, par)))
	// Where the time goes: the same work without file I/O, and the file
	// I/O alone (the floor on this machine, whatever the model does).
	if mem, err := inMemory(dirs); err == nil {
		best := time.Duration(1<<63 - 1)
		for range warmRuns {
			d, _, _, _ := lintFrom(dirs, 1, func(i int) fs.FS { return mem[i] })
			best = min(best, d)
		}
		row("model: the same, files already in memory", best, fmt.Sprintf("%.0fx", ratio(sshdTime, best)))
	}
	io := time.Duration(1<<63 - 1)
	for range warmRuns {
		d, err := readOnly(dirs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchlint: %v\n", err)
			return 2
		}
		io = min(io, d)
	}
	row("the file reads alone (open..close, no parsing)", io, fmt.Sprintf("%.0fx", ratio(sshdTime, io)))
	cmdFindings := -1
	if command != "" {
		// The command itself, as a user runs it on a fleet's trees: one
		// process, all the trees on its command line, text out. Once on
		// one core, once on all of them (its default).
		args := []string{"lint", "--policy", policyRef}
		for _, d := range dirs {
			args = append(args, d+"/sshd_config")
		}
		for _, procs := range []int{1, workers} {
			best := time.Duration(1<<63 - 1)
			for range warmRuns {
				d, n, err := runCommand(command, args, procs)
				if err != nil {
					fmt.Fprintf(os.Stderr, "benchlint: %s lint: %v\n", command, err)
					return 2
				}
				best, cmdFindings = min(best, d), n
			}
			label := "sshwarden lint FILE... (one core)"
			if procs > 1 {
				label = fmt.Sprintf("sshwarden lint FILE... (%d cores)", procs)
			}
			row(label, best, fmt.Sprintf("%.0fx", ratio(sshdTime, best)))
		}
	}
	row("sshd -T -C, one process per tree", sshdTime, "")
	w.Flush()
	fmt.Printf("findings: %d (%d error, %d warning, %d info) with %d checks and %s\n",
		st.findings, st.bySev[lint.Error], st.bySev[lint.Warning], st.bySev[lint.Info], len(lint.Checks()), policyRef)
	accepted := 0
	for i := range dirs {
		if model[i].accepted && ref[i].accepted {
			accepted++
		}
	}
	fmt.Printf("agreement: accepted by both %d/%d; effective configuration identical to sshd -T on %d/%d\n", accepted, n, same, n)
	if firstDiff != "" {
		fmt.Printf("  first difference: %s\n", firstDiff)
	}
	if cmdFindings >= 0 && cmdFindings != st.findings {
		bad++
		fmt.Fprintf(os.Stderr, "FAIL: %s lint printed %d findings, the model found %d\n", command, cmdFindings, st.findings)
	}
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "benchlint: %d failures\n", bad)
		return 1
	}
	return 0
}

func verb(ok bool) string {
	if ok {
		return "accepts"
	}
	return "refuses"
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// round keeps three significant digits.
func round(d time.Duration) time.Duration {
	for _, r := range []time.Duration{time.Second, time.Millisecond, time.Microsecond} {
		if d >= 100*r {
			return d.Round(r)
		}
		if d >= r {
			return d.Round(r / 100)
		}
	}
	return d
}

func sshdVersion(sshd string) string {
	out, _ := exec.Command(sshd, "-V").CombinedOutput()
	v, _, _ := strings.Cut(strings.TrimSpace(string(out)), ",")
	if v == "" {
		return sshd
	}
	return v + " at " + sshd
}

// stats are the counts of one model run.
type stats struct {
	findings int
	bySev    map[lint.Severity]int
}

// lintAll is the model's phase: it loads and lints every tree in one
// process, as `sshwarden lint` does (users, services and the policy read
// once), with workers trees at a time, and returns the wall time of the
// whole phase.
func lintAll(dirs []string, workers int) (time.Duration, []result, stats, error) {
	return lintFrom(dirs, workers, func(int) fs.FS { return hostFS })
}

// hostFS is the file system `sshwarden lint` reads a host's trees from.
var hostFS = sshdconf.DirFS("/")

// lintFrom is lintAll with tree i read from fsysFor(i).
func lintFrom(dirs []string, workers int, fsysFor func(int) fs.FS) (time.Duration, []result, stats, error) {
	st := stats{bySev: map[lint.Severity]int{}}
	res := make([]result, len(dirs))
	runtime.GC() // each run starts from a clean heap, not the last run's garbage
	start := time.Now()
	root := os.DirFS("/")
	pol, err := policy.Load(policyRef)
	if err != nil {
		return 0, nil, st, err
	}
	opt := &sshdconf.LoadOptions{
		Users:    sshdconf.LoadFileUsers(root),
		Services: sshdconf.ServicesFile(root),
		Cwd:      "/",
	}
	checks := lint.Checks()
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next atomic.Int64 // the next tree to take: no channel handoff per tree
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(dirs) {
					return
				}
				cfg, err := sshdconf.Load(fsysFor(i), dirs[i]+"/sshd_config", opt)
				if err != nil {
					res[i] = result{msg: err.Error()}
					continue
				}
				pass := &lint.Pass{Config: cfg, Requirements: pol.Requirements, Stat: lint.ReadStat(cfg, true)}
				found := lint.Run(pass, checks, nil)
				mu.Lock()
				for _, f := range found {
					st.findings++
					st.bySev[f.Severity]++
				}
				mu.Unlock()
				res[i] = result{accepted: cfg.Err() == nil}
				if err := cfg.Err(); err != nil {
					res[i].msg = err.Error()
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), res, st, nil
}

// runCommand runs sshwarden with GOMAXPROCS=procs and returns its wall
// time and the number of findings it printed, one a line (exit 1: there
// are findings).
func runCommand(bin string, args []string, procs int) (time.Duration, int, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(procs))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		err = nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return d, bytes.Count(stdout.Bytes(), []byte("\n")), nil
}

// inMemory reads every file of every tree into memory, for the phase that
// loads and lints without file I/O.
func inMemory(dirs []string) ([]fs.FS, error) {
	out := make([]fs.FS, len(dirs))
	for i, d := range dirs {
		m := fstest.MapFS{}
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			m[strings.TrimPrefix(p, "/")] = &fstest.MapFile{Data: b, Mode: 0o644}
			return err
		})
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// readOnly makes the system calls the model makes to read the trees, and
// nothing else: list sshd_config.d, then open, fstat, read to the end and
// close each file. It is the floor of the model's time on this machine.
func readOnly(dirs []string) (time.Duration, error) {
	runtime.GC()
	start := time.Now()
	for _, d := range dirs {
		dir := strings.TrimPrefix(d, "/")
		ents, err := fs.ReadDir(hostFS, dir+"/sshd_config.d")
		if err != nil {
			return 0, err
		}
		names := []string{dir + "/sshd_config"}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".conf") {
				names = append(names, dir+"/sshd_config.d/"+e.Name())
			}
		}
		for _, n := range names {
			f, err := hostFS.Open(n)
			if err != nil {
				return 0, err
			}
			st, err := f.Stat()
			if err == nil {
				// As Load reads: a buffer of the size and one byte more,
				// filled until read returns 0.
				b := make([]byte, st.Size()+1)
				for n := 0; err == nil; {
					var k int
					k, err = f.Read(b[n:])
					n += k
				}
				if err == io.EOF {
					err = nil
				}
			}
			f.Close()
			if err != nil {
				return 0, err
			}
		}
	}
	return time.Since(start), nil
}

// compareEffective compares the model's effective configuration for spec
// with what sshd -T printed, on the trees sshd accepted.
func compareEffective(dirs, out []string, ref []result) (int, string) {
	cs, err := sshdconf.ParseConnSpec(spec)
	if err != nil {
		return 0, err.Error()
	}
	root := os.DirFS("/")
	opt := &sshdconf.LoadOptions{Users: sshdconf.LoadFileUsers(root), Services: sshdconf.ServicesFile(root)}
	same, first := 0, ""
	for i, d := range dirs {
		if !ref[i].accepted {
			continue
		}
		diff := ""
		cfg, err := sshdconf.Load(root, d+"/sshd_config", opt)
		if err == nil {
			var eff *sshdconf.Effective
			if eff, err = cfg.Effective(cs); err == nil {
				var b strings.Builder
				for _, s := range eff.Settings {
					b.WriteString(s.String())
					b.WriteByte('\n')
				}
				diff = firstLineDiff(b.String(), out[i])
			}
		}
		if err != nil {
			diff = err.Error()
		}
		if diff == "" {
			same++
		} else if first == "" {
			first = d + ": " + diff
		}
	}
	return same, first
}

func firstLineDiff(model, sshd string) string {
	a, b := strings.Split(model, "\n"), strings.Split(sshd, "\n")
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: model %q, sshd %q", i+1, x, y)
		}
	}
	return ""
}

// hostKey makes the one host key every tree gets a copy of.
func hostKey(tmp string) ([]byte, error) {
	k := filepath.Join(tmp, "hostkey")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "benchlint", "-f", k).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	return os.ReadFile(k)
}

// The trees.

// stockTree is the corpus tree holding Debian 12's stock sshd_config;
// stockConfig turns its Include and ed25519 HostKey lines into %INCLUDE% and
// %HOSTKEY% for each tree's own paths. Run from the repository root.
const stockTree = "testdata/trees/debian12-stock.txtar"

func stockConfig() (string, error) {
	b, err := os.ReadFile(stockTree)
	if err != nil {
		return "", err
	}
	main := string(oracle.ParseArchive(b).Files["etc/ssh/sshd_config"])
	r := strings.NewReplacer(
		"Include /etc/ssh/sshd_config.d/*.conf", "Include %INCLUDE%",
		"#HostKey /etc/ssh/ssh_host_ed25519_key", "HostKey %HOSTKEY%")
	out := r.Replace(main)
	if !strings.Contains(out, "%INCLUDE%") || !strings.Contains(out, "%HOSTKEY%") {
		return "", fmt.Errorf("%s: no Include or HostKey line to replace", stockTree)
	}
	return out, nil
}

// Algorithms OpenSSH 9.2 knows, in its preference order.
var (
	kexAlgs = []string{"sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org",
		"ecdh-sha2-nistp256", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512", "diffie-hellman-group-exchange-sha256"}
	ciphers = []string{"chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com",
		"aes256-ctr", "aes192-ctr", "aes128-ctr"}
	macs = []string{"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com",
		"hmac-sha2-512", "hmac-sha2-256"}
	hostKeyAlgs = []string{"ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "rsa-sha2-512", "rsa-sha2-256"}
)

// subset picks a non-empty ordered subset of list.
func subset(rng *rand.Rand, list []string) string {
	var out []string
	for _, a := range list {
		if rng.IntN(3) > 0 {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = list[:1]
	}
	return strings.Join(out, ",")
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

// dropIns are the drop-ins a tree may have, as name and body.
var dropIns = []struct {
	name string
	body func(rng *rand.Rand) string
}{
	{"50-cloud-init.conf", func(rng *rand.Rand) string {
		// What cloud-init writes for ssh_pwauth.
		return "PasswordAuthentication " + pick(rng, "yes", "yes", "no") + "\n"
	}},
	{"10-hardening.conf", func(rng *rand.Rand) string {
		var b strings.Builder
		b.WriteString("# Managed by configuration management; local changes are overwritten.\n")
		fmt.Fprintf(&b, "PermitRootLogin %s\n", pick(rng, "no", "prohibit-password", "without-password", "forced-commands-only"))
		fmt.Fprintf(&b, "MaxAuthTries %d\n", 2+rng.IntN(5))
		fmt.Fprintf(&b, "LoginGraceTime %s\n", pick(rng, "30", "60", "1m", "2m", "45s"))
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "MaxSessions %d\n", 2+rng.IntN(9))
		}
		fmt.Fprintf(&b, "ClientAliveInterval %s\n", pick(rng, "60", "120", "300", "600", "5m", "15m", "0"))
		fmt.Fprintf(&b, "ClientAliveCountMax %d\n", rng.IntN(4))
		b.WriteString("PermitEmptyPasswords no\nHostbasedAuthentication no\nIgnoreRhosts yes\n")
		fmt.Fprintf(&b, "X11Forwarding %s\n", pick(rng, "no", "yes"))
		fmt.Fprintf(&b, "AllowAgentForwarding %s\n", pick(rng, "no", "yes"))
		fmt.Fprintf(&b, "LogLevel %s\n", pick(rng, "VERBOSE", "INFO"))
		if rng.IntN(3) == 0 {
			fmt.Fprintf(&b, "AllowGroups %s\n", pick(rng, "ssh-users", "ssh-users admins", "sudo ssh-users"))
		}
		if rng.IntN(4) == 0 {
			b.WriteString("Banner /etc/issue.net\n")
		}
		if rng.IntN(5) == 0 {
			b.WriteString("Protocol 2\n") // from an old guide: deprecated, logged only
		}
		if rng.IntN(3) == 0 {
			fmt.Fprintf(&b, "MaxStartups %d:%d:%d\n", 5+rng.IntN(10), 30+rng.IntN(40), 60+rng.IntN(100))
		}
		return b.String()
	}},
	{"20-crypto.conf", func(rng *rand.Rand) string {
		return "# Crypto policy\n" +
			"KexAlgorithms " + subset(rng, kexAlgs) + "\n" +
			"Ciphers " + subset(rng, ciphers) + "\n" +
			"MACs " + subset(rng, macs) + "\n" +
			"HostKeyAlgorithms " + subset(rng, hostKeyAlgs) + "\n"
	}},
	{"40-idle.conf", func(rng *rand.Rand) string {
		var b strings.Builder
		b.WriteString("# Close idle sessions\n")
		fmt.Fprintf(&b, "ClientAliveInterval %d\n", 30*(1+rng.IntN(20)))
		fmt.Fprintf(&b, "ClientAliveCountMax %d\n", rng.IntN(4))
		switch rng.IntN(3) {
		case 0:
			fmt.Fprintf(&b, "ChannelTimeout session:*=%dm\nUnusedConnectionTimeout %dm\n", 5+rng.IntN(30), 1+rng.IntN(10))
		case 1:
			fmt.Fprintf(&b, "ChannelTimeout session=%dm\n", 5+rng.IntN(30)) // the trap
		}
		return b.String()
	}},
	{"60-sftp.conf", func(rng *rand.Rand) string {
		return "Match Group sftponly\n" +
			"\tChrootDirectory /srv/sftp/%u\n" +
			"\tForceCommand internal-sftp" + pick(rng, "", " -u 0027", " -l INFO") + "\n" +
			"\tAllowTcpForwarding no\n" +
			"\tX11Forwarding no\n" +
			"\tPasswordAuthentication " + pick(rng, "yes", "no") + "\n"
	}},
	{"70-match.conf", func(rng *rand.Rand) string {
		var b strings.Builder
		fmt.Fprintf(&b, "Match Address %s\n", pick(rng, "10.0.0.0/8,192.168.0.0/16", "192.0.2.0/24", "172.16.0.0/12,!172.16.99.0/24", "198.51.100.*"))
		fmt.Fprintf(&b, "    PasswordAuthentication yes\n    MaxAuthTries %d\n", 3+rng.IntN(4))
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "    ClientAliveInterval %d\n", 60*(1+rng.IntN(15)))
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "Match User %s\n", pick(rng, "deploy", "backup,deploy", "alice", "ansible"))
		b.WriteString("    AllowTcpForwarding no\n    PermitTTY no\n")
		if rng.IntN(2) == 0 {
			b.WriteString("    ForceCommand /usr/local/bin/deploy-shell\n")
		}
		if rng.IntN(3) == 0 {
			b.WriteString("\nMatch Host *.example.com LocalPort 22\n    Banner none\n")
		}
		return b.String()
	}},
}

// writeTree writes one tree to dir and returns how many configuration files
// sshd reads there, and whether one of them has a Match block.
func writeTree(dir, stock string, key []byte, rng *rand.Rand) (int, bool, error) {
	dd := filepath.Join(dir, "sshd_config.d")
	if err := os.MkdirAll(dd, 0o755); err != nil {
		return 0, false, err
	}
	type file struct {
		name, body string
		mode       os.FileMode
	}
	main := strings.NewReplacer("%INCLUDE%", dd+"/*.conf", "%HOSTKEY%", dir+"/ssh_host_ed25519_key").Replace(stock)
	// What admins append at the end of the main file.
	switch rng.IntN(4) {
	case 0:
		main += "PasswordAuthentication no\n" // overridden by 50-cloud-init.conf when there
	case 1:
		main += "\nMatch User backup\n\tForceCommand /usr/local/sbin/backup-only\n\tPermitTTY no\n\nClientAliveInterval " +
			strconv.Itoa(60*(1+rng.IntN(10))) + "\n" // lands in the Match block
	case 2:
		main += "Port " + pick(rng, "22", "2222", "22022") + "\n"
	}
	files := []file{
		{"ssh_host_ed25519_key", string(key), 0o600},
		{"sshd_config", main, 0o644},
	}
	k := 1 + rng.IntN(4)
	idx := rng.Perm(len(dropIns))[:k]
	slices.Sort(idx)
	for _, i := range idx {
		mode := os.FileMode(0o644)
		if rng.IntN(20) == 0 {
			mode = 0o664 // group-writable: a file-permissions finding
		}
		files = append(files, file{"sshd_config.d/" + dropIns[i].name, dropIns[i].body(rng), mode})
	}
	// Leftovers the Include pattern skips.
	switch rng.IntN(8) {
	case 0:
		files = append(files, file{"sshd_config.d/50-cloud-init.conf.dpkg-old", "PasswordAuthentication yes\n", 0o644})
	case 1:
		files = append(files, file{"sshd_config.d/README", "Files in this directory ending in .conf are read by sshd.\n", 0o644})
	}
	match := false
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(f.body), f.mode); err != nil {
			return 0, false, err
		}
		if err := os.Chmod(p, f.mode); err != nil { // past the umask
			return 0, false, err
		}
		match = match || strings.HasPrefix(f.body, "Match ") || strings.Contains(f.body, "\nMatch ")
	}
	return 1 + k, match, nil
}
