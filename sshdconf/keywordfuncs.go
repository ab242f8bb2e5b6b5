package sshdconf

import (
	"fmt"
	"strconv"
	"strings"
)

// The keywords with a syntax of their own, one method each, in the order
// of servconf.c's switch (see dirLine.directive in directive.go).

// port ports sPort: every line adds a port, 256 at most.
func (d *dirLine) port(o *options) bool {
	arg, ok := d.arg("missing port number.")
	if !ok {
		return true
	}
	if len(o.ports) >= 256 {
		return d.bad("too many ports.")
	}
	port := a2port(arg, d.e.c.opt.Services)
	o.ports = append(o.ports, ival{port, d.l.pos})
	if port <= 0 {
		return d.bad("Badly formatted port number.")
	}
	return true
}

// listenAddress ports sListenAddress: parsing only; addresses are resolved
// after all Port lines (process_queued_listen_addrs).
func (d *dirLine) listenAddress(o *options) bool {
	arg, ok := d.av.next()
	if !ok || arg == "" {
		return d.fatal(0, KindBadValue, "missing address")
	}
	addr, port := arg, 0
	if c := strings.IndexByte(arg, ':'); !strings.Contains(arg, "[") && c >= 0 && strings.IndexByte(arg[c+1:], ':') >= 0 {
		// a bare IPv6 address
	} else {
		host, more, okh := hpdelim(arg)
		if !okh {
			return d.fatal(0, KindBadValue, "bad address:port usage")
		}
		addr = host
		if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") { // cleanhostname
			addr = host[1 : len(host)-1]
		}
		if more != nil {
			if port = a2port(*more, d.e.c.opt.Services); port <= 0 {
				return d.fatal(0, KindBadValue, "bad port number")
			}
		}
	}
	// An optional "rdomain NAME": the model refuses every routing domain
	// (sshd checks the name against the host's interfaces; see the known
	// mismatches of edge_test.go).
	if a, ok := d.av.next(); ok {
		if _, ok2 := d.av.next(); a != "rdomain" || !ok2 {
			return d.bad("bad ListenAddress syntax")
		}
		return d.bad("bad routing domain")
	}
	o.queuedListens = append(o.queuedListens, listenAddr{addr: addr, port: port, pos: d.l.pos})
	return true
}

// hostKeyAgent ports sHostKeyAgent: a socket path, or SSH_AUTH_SOCK.
func (d *dirLine) hostKeyAgent(o *options) bool {
	arg, ok := d.arg("missing socket name.")
	if !ok {
		return true
	}
	if d.e.active && !o.hostKeyAgent.set {
		v := arg
		if arg != "SSH_AUTH_SOCK" {
			v = d.e.derelativise(d.l, arg)
		}
		o.hostKeyAgent.set1(v, d.l.pos)
	}
	return true
}

// pubkeyAuthOptions ports sPubkeyAuthOptions: none, touch-required,
// verify-required.
func (d *dirLine) pubkeyAuthOptions(o *options) bool {
	v, maxPK := 0, -1
	for arg, ok := d.loopNext(); ok; arg, ok = d.loopNext() {
		switch {
		case strings.EqualFold(arg, "none"):
		case strings.EqualFold(arg, "touch-required"):
			v |= 1
		case strings.EqualFold(arg, "verify-required") && d.e.c.rel.AtLeast("8.4"):
			v |= 2
		case d.e.c.rel.AtLeast("10.6") && strings.HasPrefix(arg, "max-pk-ok:"):
			// 10.6 (measured): max-pk-ok:N, printed when set.
			n, errstr := atoiErr(arg[len("max-pk-ok:"):], true)
			if errstr != "" {
				d.e.errorLine(d.l, d.argi(), KindBadValue, fmt.Sprintf("bad %s max-pk-ok value: %s", d.l.kw, errstr))
				return false
			}
			maxPK = n
		case d.e.c.rel.Before("8.7"):
			// fatal until 8.7 (strdelim before argv_split)
			return d.bad(fmt.Sprintf("unsupported PubkeyAuthOptions option %s", arg))
		default:
			d.e.errorLine(d.l, d.argi(), KindBadValue, fmt.Sprintf("unsupported %s option %s", d.l.kw, arg))
			return false
		}
	}
	if d.e.active && o.pubkeyAuthOptions.v == -1 {
		o.maxPKOK = ival{maxPK, d.l.pos}
	}
	d.setInt(&o.pubkeyAuthOptions, v)
	return true
}

// gssKexAlgorithms ports sGssKexAlgorithms (Debian's GSSAPI patch).
func (d *dirLine) gssKexAlgorithms(o *options) bool {
	arg, ok := d.arg("Missing argument.")
	if !ok {
		return true
	}
	if !d.e.c.alg.gssKexValid(arg) {
		return d.bad(fmt.Sprintf("Bad GSSAPI KexAlgorithms '%s'.", arg))
	}
	d.setStr(&o.gssKexAlgorithms, arg)
	return true
}

// permitUserEnvironment ports sPermitUserEnvironment: yes, no, or a
// pattern list of the variables allowed.
func (d *dirLine) permitUserEnvironment(o *options) bool {
	arg, ok := d.arg(d.pre87(missingArg, "missing argument."))
	if !ok {
		return true
	}
	v, list := 1, ""
	switch arg {
	case "yes":
	case "no":
		v = 0
	default:
		list = arg
	}
	if d.e.active && o.permitUserEnv.v == -1 {
		o.permitUserEnv = ival{v, d.l.pos}
		if list != "" {
			o.permitUserEnvAllowlist.set1(list, d.l.pos)
		}
	}
	return true
}

// rekeyLimit ports sRekeyLimit: a byte count ("default" or a scaled
// number) and an optional time ("none" or a time).
func (d *dirLine) rekeyLimit(o *options) bool {
	arg, ok := d.arg(d.pre87(missingArg, "Missing argument."))
	if !ok {
		return true
	}
	var v int64
	if arg != "default" {
		n, errno := scanScaled(arg)
		if errno != "" {
			return d.bad(d.pre87(fmt.Sprintf("Bad %s number '%s': %s", d.l.kw, arg, errno), fmt.Sprintf("Bad number '%s': %s", arg, errno)))
		}
		if n != 0 && n < 16 {
			return d.bad(d.pre87(fmt.Sprintf("%s too small", d.l.kw), "RekeyLimit too small"))
		}
		v = n
	}
	if d.e.active && o.rekeyLimit.v == -1 {
		o.rekeyLimit = i64val{v, d.l.pos}
	}
	if d.av.left() != 0 {
		if next, _ := d.av.peek(); next == "none" {
			d.av.next()
			return true
		}
		return d.time(&o.rekeyInterval)
	}
	return true
}

// logFacility ports sLogFacility, global only: the first value wins.
func (d *dirLine) logFacility(o *options) bool {
	arg, _ := d.av.next()
	v := lookupState(logFacilities, arg, true)
	if v == -1 {
		if arg == "" && d.av.i == 0 {
			arg = "<NONE>"
		}
		return d.bad(fmt.Sprintf("unsupported log facility '%s'", arg))
	}
	if o.logFacility.v == -1 {
		o.logFacility = ival{v, d.l.pos}
	}
	return true
}

// logLevel ports sLogLevel.
func (d *dirLine) logLevel(o *options) bool {
	arg, _ := d.av.next()
	v := lookupState(logLevels, arg, true)
	if v == -1 {
		return d.bad(fmt.Sprintf("unsupported log level '%s'", arg))
	}
	d.setInt(&o.logLevel, v)
	return true
}

// logVerbose ports sLogVerbose: the list of the first line; "none" alone.
func (d *dirLine) logVerbose(o *options) bool {
	found := len(o.logVerbose.v) == 0
	i := 0
	for arg, ok := d.av.next(); ok; arg, ok = d.av.next() {
		if arg == "" {
			d.e.errorLine(d.l, d.argi(), KindBadValue, fmt.Sprintf("keyword %s empty argument", d.l.kw))
			return false
		}
		if strings.EqualFold(arg, "none") && (i > 0 || d.av.left() > 0) {
			d.e.errorLine(d.l, d.argi(), KindBadValue, fmt.Sprintf("keyword %s \"none\" argument must appear alone.", d.l.kw))
			return false
		}
		i++
		if found && d.e.active {
			o.logVerbose.add(arg, d.l.pos)
		}
	}
	return true
}

// subsystem ports sSubsystem: a name and a command, each name once, 256
// at most. From 9.5 (commit 6c1a4de2, Subsystem allowed in Match) a name
// defined again is ignored, there is no limit, and the command and its
// arguments are re-quoted (argv_assemble); 9.5 to 9.8 leave a blank after
// a command without arguments.
func (d *dirLine) subsystem(o *options) bool {
	rel := d.e.c.rel
	if len(o.subsystems) >= 256 && rel.Before("9.5") {
		return d.fatal(-1, KindBadValue, "too many subsystems defined.")
	}
	arg, ok := d.arg(d.pre87(missingArg, "Missing subsystem name."))
	if !ok {
		return true
	}
	if !d.e.active {
		if rel.AtLeast("9.5") {
			d.av.consume()
		} else {
			d.av.next()
		}
		return true
	}
	for _, s := range o.subsystems {
		if s.name == arg {
			if rel.AtLeast("9.5") {
				d.av.consume()
				return true
			}
			return d.bad(fmt.Sprintf("Subsystem '%s' already defined.", arg))
		}
	}
	name := arg
	if arg, ok = d.arg("Missing subsystem command."); !ok {
		return true
	}
	args := arg
	if rel.AtLeast("9.5") {
		args = argvAssemble(d.av.v[d.av.i-1 : d.av.i])
		rest := argvAssemble(d.av.v[d.av.i:])
		d.av.consume()
		// 9.5 and 9.6 join a command without arguments to its (empty)
		// arguments with a blank, printed by sshd -T (measured on 9.6p1;
		// removed by upstream ee6d932ac before 9.7: 9.7 and 9.8 are not
		// checked against an sshd, 9.9p2 is).
		if rest != "" || rel.Before("9.7") {
			args += " " + rest
		}
	}
	for a, ok := d.av.next(); ok; a, ok = d.av.next() {
		args += " " + a
	}
	o.subsystems = append(o.subsystems, subsystem{name: name, args: args, pos: d.l.pos})
	return true
}

// firstWinsFrom is the release from which the first value of a keyword
// wins, for the keywords whose last value won before (servconf.c checked
// that the option was unset only from then on; measured with each
// release's sshd -T: PerSourceMaxStartups first in 9.6, MaxStartups and
// PerSourceNetBlockSize in 10.2, IPQoS in 10.5, StreamLocalBindMask in
// Debian's 10.6; FingerprintHash's last value still wins there).
var firstWinsFrom = map[opcode]string{
	sPerSourceMaxStartups:  "9.5",
	sMaxStartups:           "10.1",
	sPerSourceNetBlockSize: "10.1",
	sIPQoS:                 "10.3",
	sStreamLocalBindMask:   "10.6",
}

// lastWins reports whether the last value of the keyword of opcode op
// wins in the release read as.
func (d *dirLine) lastWins(op opcode) bool {
	v, ok := firstWinsFrom[op]
	return ok && d.e.c.rel.Before(v)
}

// maxStartups ports sMaxStartups: N or start:rate:full; the last line wins
// up to 10.0, the first from 10.1.
func (d *dirLine) maxStartups(o *options) bool {
	arg, ok := d.arg(d.pre87(missingArg, "Missing MaxStartups spec."))
	if !ok {
		return true
	}
	if !d.lastWins(sMaxStartups) {
		return d.maxStartupsFirst(o, arg)
	}
	p := d.l.pos
	vals := []int{o.maxStartupsBegin.v, o.maxStartupsRate.v, o.maxStartups.v}
	n := scanfInts(arg, vals)
	o.maxStartupsBegin = ival{vals[0], p}
	o.maxStartupsRate = ival{vals[1], p}
	o.maxStartups = ival{vals[2], p}
	invalid := d.pre87(fmt.Sprintf("Invalid %s spec.", d.l.kw), "Illegal MaxStartups spec.")
	switch {
	case n == 3:
		if vals[0] > vals[2] || vals[1] > 100 || vals[1] < 1 {
			return d.bad(invalid)
		}
	case n != 1:
		return d.bad(invalid)
	default:
		o.maxStartups = ival{vals[0], p}
	}
	if o.maxStartups.v <= 0 || o.maxStartupsBegin.v <= 0 {
		return d.bad(invalid)
	}
	return true
}

// maxStartupsFirst is sMaxStartups from 10.1, where the first value wins:
// "N" alone leaves start and rate to their defaults (10.5: start N).
func (d *dirLine) maxStartupsFirst(o *options, arg string) bool {
	vals := []int{0, 0, 0}
	invalid := fmt.Sprintf("Invalid %s spec.", d.l.kw)
	switch n := scanfInts(arg, vals); {
	case n == 3:
		if vals[0] > vals[2] || vals[1] > 100 || vals[1] < 1 {
			return d.bad(invalid)
		}
	case n == 1:
		vals[2] = vals[0]
		vals[1] = -1
		if d.e.c.rel.Before("10.5") {
			vals[0] = -1
		}
	default:
		return d.bad(invalid)
	}
	if d.e.c.rel.AtLeast("10.5") && vals[0] <= 0 || vals[2] <= 0 || vals[1] != -1 && vals[0] <= 0 {
		return d.bad(invalid)
	}
	if d.e.active && o.maxStartups.v == -1 {
		p := d.l.pos
		o.maxStartupsBegin = ival{vals[0], p}
		o.maxStartupsRate = ival{vals[1], p}
		o.maxStartups = ival{vals[2], p}
	}
	return true
}

// perSourceNetBlockSize ports sPerSourceNetBlockSize: v4[:v6] prefix
// lengths; the last line wins up to 10.0, the first from 10.1. A v4 length
// alone sets v6 to 0 (10.5: leaves it).
func (d *dirLine) perSourceNetBlockSize(o *options) bool {
	arg, ok := d.arg(missingArg)
	if !ok {
		return true
	}
	vals := []int{0, 0}
	n := scanfInts(arg, vals)
	switch n {
	case 2:
		if vals[1] < 0 || vals[1] > 128 {
			n = -1
		}
		fallthrough
	case 1:
		if vals[0] < 0 || vals[0] > 32 {
			n = -1
		}
	}
	if n != 1 && n != 2 {
		return d.bad(fmt.Sprintf("Invalid %s spec.", d.l.kw))
	}
	if d.e.active && (d.lastWins(sPerSourceNetBlockSize) || o.perSourceMasklenIPv4.v == -1) {
		o.perSourceMasklenIPv4 = ival{vals[0], d.l.pos}
		if n == 2 || d.e.c.rel.Before("10.5") {
			o.perSourceMasklenIPv6 = ival{vals[1], d.l.pos}
		}
	}
	return true
}

// perSourceMaxStartups ports sPerSourceMaxStartups: a number or "none";
// the last line wins up to 9.4, the first from 9.5.
func (d *dirLine) perSourceMaxStartups(o *options) bool {
	arg, ok := d.arg(missingArg)
	if !ok {
		return true
	}
	v := intMax
	if arg != "none" {
		var errstr string
		v, errstr = atoiErr(arg, true)
		if errstr != "" {
			return d.bad(fmt.Sprintf("%s integer value %s.", d.l.kw, errstr))
		}
	}
	if d.e.active && (d.lastWins(sPerSourceMaxStartups) || o.perSourceMaxStartups.v == -1) {
		o.perSourceMaxStartups = ival{v, d.l.pos}
	}
	return true
}

// authorizedKeysFile ports sAuthorizedKeysFile: the list of the first
// line, ~ expanded (before 8.7 up to an empty word, and the rest of the
// line unread).
func (d *dirLine) authorizedKeysFile(o *options) bool {
	first := len(o.authorizedKeysFiles.v) == 0
	if d.e.c.rel.Before("8.7") {
		for arg, ok := d.av.next(); ok && arg != "" && d.e.active && first; arg, ok = d.av.next() {
			o.authorizedKeysFiles.add(d.e.tildeExpand(d.l, arg), d.l.pos)
		}
		d.av.consume()
		return true
	}
	for arg, ok := d.av.next(); ok; arg, ok = d.av.next() {
		if arg == "" {
			d.e.errorLine(d.l, d.argi(), KindBadValue, fmt.Sprintf("keyword %s empty argument", d.l.kw))
			return false
		}
		if d.e.active && first {
			o.authorizedKeysFiles.add(d.e.tildeExpand(d.l, arg), d.l.pos)
		}
	}
	return true
}

// authorizedPrincipalsFile ports sAuthorizedPrincipalsFile: a file name,
// ~ expanded.
func (d *dirLine) authorizedPrincipalsFile(o *options) bool {
	arg, ok := d.arg(d.pre87(missingArg, "missing file name."))
	if !ok {
		return true
	}
	if d.e.active && !o.authorizedPrincipalsFile.set {
		o.authorizedPrincipalsFile.set1(d.e.tildeExpand(d.l, arg), d.l.pos)
	}
	return true
}

// acceptEnv ports sAcceptEnv: every line adds its names.
func (d *dirLine) acceptEnv(o *options) bool {
	for arg, ok := d.loopNext(); ok; arg, ok = d.loopNext() {
		if arg == "" || strings.Contains(arg, "=") {
			return d.bad("Invalid environment name.")
		}
		if d.e.active {
			o.acceptEnv.add(arg, d.l.pos)
		}
	}
	return true
}

// setEnv ports sSetEnv: NAME=VALUE words of the first line, the first of
// each name (before 9.0 (8.9 measured): every word, and read with
// strdelimw before 8.7, up to an empty word).
func (d *dirLine) setEnv(o *options, line []byte) bool {
	if d.e.c.rel.Before("8.7") {
		var words []string
		b := append([]byte(nil), line...)
		for s := d.str; s >= 0; {
			w, ok := strdelimw(b, &s)
			if !ok || len(w) == 0 {
				break
			}
			words = append(words, string(w))
		}
		d.av = argv{v: words}
	}
	first := len(o.setEnv.v) == 0
	for arg, ok := d.loopNext(); ok; arg, ok = d.loopNext() {
		if arg == "" || !strings.Contains(arg, "=") {
			return d.bad("Invalid environment.")
		}
		if !d.e.active || !first {
			continue
		}
		name, _, _ := strings.Cut(arg, "=")
		if d.e.c.rel.Before("9.0") {
			o.setEnv.add(arg, d.l.pos)
			continue
		}
		dup := false
		for _, x := range o.setEnv.v {
			dup = dup || strings.HasPrefix(x, name+"=")
		}
		if !dup {
			o.setEnv.add(arg, d.l.pos)
		}
	}
	return true
}

// permitTunnel ports sPermitTunnel: a tunnel mode, case sensitive.
func (d *dirLine) permitTunnel(o *options) bool {
	arg, ok := d.arg(d.pre87(missingArg, "Missing yes/point-to-point/ethernet/no argument."))
	if !ok {
		return true
	}
	v := lookupState(tunModes, arg, false)
	if v == -1 {
		return d.bad(d.pre87(fmt.Sprintf("bad %s argument %s", d.l.kw, arg), "Bad yes/point-to-point/ethernet/no argument: "+arg))
	}
	d.setInt(&o.permitTun, v)
	return true
}

// forceCommand ports sForceCommand: the rest of the line.
func (d *dirLine) forceCommand(o *options, line []byte) bool {
	rest := string(cstr(line, d.str))
	if d.str < 0 || rest == "" {
		return d.bad(d.pre87(fmt.Sprintf(missingArg, d.l.kw), "Missing argument."))
	}
	d.setStr(&o.admForcedCommand, strings.TrimLeft(rest, whitespace))
	d.av.consume()
	return true
}

// securityKeyProvider ports sSecurityKeyProvider: a library path, or
// "internal".
func (d *dirLine) securityKeyProvider(o *options) bool {
	arg, ok := d.arg(d.pre87(missingArg, "missing file name."))
	if !ok {
		return true
	}
	if d.e.active && !o.skProvider.set {
		v := arg
		if !strings.EqualFold(arg, "internal") {
			v = d.e.derelativise(d.l, arg)
		}
		o.skProvider.set1(v, d.l.pos)
	}
	return true
}

// ipQoS ports sIPQoS: one or two DSCP or ToS values; the last line wins
// up to 10.2, the first from 10.3.
func (d *dirLine) ipQoS(o *options) bool {
	if _, ok := d.av.peek(); !ok && d.e.pre87 {
		return d.bad("Bad IPQoS value: (null)") // parse_ipqos(NULL), printf's "(null)"
	}
	arg, ok := d.arg(missingArg)
	if !ok {
		return true
	}
	v := parseIPQoSIn(arg, d.e.c.rel)
	if v == -1 {
		return d.bad(d.pre87(fmt.Sprintf("Bad %s value: %s", d.l.kw, arg), "Bad IPQoS value: "+arg))
	}
	v2 := v
	if arg, ok = d.av.next(); ok {
		if v2 = parseIPQoSIn(arg, d.e.c.rel); v2 == -1 {
			return d.bad(d.pre87(fmt.Sprintf("Bad %s value: %s", d.l.kw, arg), "Bad IPQoS value: "+arg))
		}
	}
	if d.e.active && (d.lastWins(sIPQoS) || o.ipQoSInteractive.v == -1) {
		o.ipQoSInteractive = ival{v, d.l.pos}
		o.ipQoSBulk = ival{v2, d.l.pos}
	}
	return true
}

// versionAddendum ports sVersionAddendum: the rest of the line, "none"
// for nothing.
func (d *dirLine) versionAddendum(o *options, line []byte) bool {
	rest := string(cstr(line, d.str))
	if d.str < 0 || rest == "" {
		return d.bad(d.pre87(fmt.Sprintf(missingArg, d.l.kw), "Missing argument."))
	}
	v := strings.TrimLeft(rest, whitespace)
	if strings.Contains(v, "\r") {
		return d.fatal(0, KindBadValue, d.pre87(fmt.Sprintf("Invalid %s argument", d.l.kw), "Invalid argument"))
	}
	if d.e.active && !o.versionAddendum.set {
		if strings.EqualFold(v, "none") {
			v = ""
		}
		o.versionAddendum.set1(v, d.l.pos)
	}
	d.av.consume()
	return true
}

// authenticationMethods ports sAuthenticationMethods: method lists of the
// first line, or "any" alone.
func (d *dirLine) authenticationMethods(o *options) bool {
	found := len(o.authMethods.v) == 0
	if !found && d.e.pre87 {
		// Before 8.7 a line after the one that set it is not read at all.
		d.av.consume()
		return true
	}
	sawAny, parsed := false, false
	// Up to 9.7 "any" after any earlier AuthenticationMethods line that
	// set the option is fatal; from 9.8 only after a method of the same
	// line (9.9p2 measured).
	n := 0
	for arg, ok := d.loopNext(); ok; arg, ok = d.loopNext() {
		n++
		switch {
		case arg == "any":
			if d.e.c.rel.AtLeast("9.8") && n > 1 || d.e.c.rel.Before("9.8") && len(o.authMethods.v) > 0 {
				return d.bad(fmt.Sprintf("\"any\" must appear alone in %s", d.pre87(d.l.kw, "AuthenticationMethods")))
			}
			sawAny = true
		case sawAny:
			return d.bad(fmt.Sprintf("\"any\" must appear alone in %s", d.pre87(d.l.kw, "AuthenticationMethods")))
		case !authMethodsValid(arg):
			return d.bad(d.pre87(fmt.Sprintf("invalid %s method list.", d.l.kw), "invalid authentication method list."))
		}
		parsed = true
		if found && d.e.active {
			o.authMethods.add(arg, d.l.pos)
		}
	}
	if !parsed {
		return d.fatal(-1, KindBadValue, fmt.Sprintf("no %s specified", d.pre87(d.l.kw, "AuthenticationMethods")))
	}
	return true
}

// streamLocalBindMask ports sStreamLocalBindMask: an octal mask; the last
// line wins, the first from 10.6.
func (d *dirLine) streamLocalBindMask(o *options) bool {
	arg, ok := d.arg(d.pre87(missingArg, "missing StreamLocalBindMask argument."))
	if !ok {
		return true
	}
	v, n, _ := strtoll(arg, 8)
	if n == 0 || v < 0 || v > 0o777 {
		return d.bad(d.pre87(fmt.Sprintf("Invalid %s.", d.l.kw), "Bad mask."))
	}
	if d.e.active && (d.lastWins(sStreamLocalBindMask) || o.streamLocalBindMask.v == -1) {
		o.streamLocalBindMask = ival{int(v), d.l.pos}
	}
	return true
}

// fingerprintHash ports sFingerprintHash: a digest name; the last line wins.
func (d *dirLine) fingerprintHash(o *options) bool {
	arg, ok := d.arg(d.pre87(missingArg, "Missing argument."))
	if !ok {
		return true
	}
	v := lookupState(digests, arg, true)
	if v == -1 {
		return d.bad(d.pre87(fmt.Sprintf("Invalid %s algorithm \"%s\".", d.l.kw, arg), fmt.Sprintf("Invalid hash algorithm \"%s\".", arg)))
	}
	if d.e.active {
		o.fingerprintHash = ival{v, d.l.pos}
	}
	return true
}

// rDomain ports sRDomain: Linux builds from 8.4 on have no routing
// domains; 8.0 and 8.2 take "none", "%D", or a routing domain that exists
// (the model knows none: "bad routing domain").
func (d *dirLine) rDomain(o *options) bool {
	if d.e.c.rel.AtLeast("8.4") {
		return d.fatal(-1, KindBadValue, "setting RDomain not supported on this platform.")
	}
	arg, ok := d.arg("Missing argument.")
	if !ok {
		return true
	}
	if !strings.EqualFold(arg, "none") && arg != "%D" {
		return d.bad("bad routing domain")
	}
	d.setStr(&o.routingDomain, arg)
	return true
}

// channelTimeout ports sChannelTimeout: type=interval words of the first
// line, or "none".
func (d *dirLine) channelTimeout(o *options) bool {
	first := len(o.channelTimeouts.v) == 0
	i := 0
	counts := d.e.c.rel.AtLeast("9.8")
	for arg, ok := d.av.next(); ok; arg, ok = d.av.next() {
		// Up to 9.7 sshd never counts i up here, so "none" is refused
		// only when more arguments follow it; from 9.8 (9.9p2 measured)
		// also after others.
		if counts {
			i = d.av.i - 1
		}
		if strings.EqualFold(arg, "none") {
			if i > 0 || d.av.left() > 0 {
				d.e.errorLine(d.l, d.argi(), KindBadValue, fmt.Sprintf("keyword %s \"none\" argument must appear alone.", d.l.kw))
				return false
			}
		} else if !validChannelTimeout(arg, d.e.c.rel) {
			return d.bad(fmt.Sprintf("invalid channel timeout %s", arg))
		}
		if d.e.active && first {
			o.channelTimeouts.add(arg, d.l.pos)
		}
	}
	return true
}

// unusedConnectionTimeout ports sUnusedConnectionTimeout: a time, or
// "none", which wins over any earlier value.
func (d *dirLine) unusedConnectionTimeout(o *options) bool {
	if next, ok := d.av.peek(); ok && strings.EqualFold(next, "none") {
		d.av.next()
		if d.e.active {
			o.unusedConnectionTimeout = ival{0, d.l.pos}
		}
		return true
	}
	return d.time(&o.unusedConnectionTimeout)
}

// validChannelTimeout ports parse_timeout: "type=interval" with a non-empty type.
func validChannelTimeout(s string, r *Release) bool {
	i := strings.IndexByte(s, '=')
	return i > 0 && convtimeIn(s[i+1:], r) >= 0
}

// hpdelim ports hpdelim: it splits "host:port" or "[v6]:port". more is nil
// when there is no port part; ok is false for a malformed field.
func hpdelim(s string) (host string, more *string, ok bool) {
	i := 0
	if strings.HasPrefix(s, "[") {
		j := strings.IndexByte(s, ']')
		if j < 0 {
			return "", nil, false
		}
		i = j + 1
	} else if j := strings.IndexAny(s, ":/"); j >= 0 {
		i = j
	} else {
		i = len(s)
	}
	if i == len(s) {
		return s, nil, true
	}
	switch s[i] {
	case ':':
		rest := s[i+1:]
		return s[:i], &rest, true
	case '/':
		return "", nil, false // hpdelim refuses '/' as a delimiter
	}
	return "", nil, false
}

// validUserPattern ports match_user(NULL, NULL, NULL, pattern) != -1: the
// host part after '@' must be a valid address list, as ar reads it.
func validUserPattern(p string, ar addrRules) bool {
	i := strings.IndexByte(p, '@')
	if i < 0 {
		return true
	}
	return ar.matchList("", true, p[i+1:]) != -2
}

// authMethodsValid ports auth2_methods_valid(list, 0): comma-separated
// methods, each "name" or "name:submethod" of a known method.
func authMethodsValid(list string) bool {
	if list == "" {
		return false
	}
	for _, m := range strings.Split(list, ",") {
		name, _, _ := strings.Cut(m, ":")
		switch name {
		case "gssapi-with-mic", "gssapi-keyex", "publickey", "keyboard-interactive", "password", "hostbased", "none":
		default:
			return false
		}
	}
	return true
}

// derelativise ports derelativise_path.
func (e *evaluator) derelativise(l lineCtx, p string) string {
	if strings.EqualFold(p, "none") {
		return "none"
	}
	x := e.tildeExpand(l, p)
	if strings.HasPrefix(x, "/") {
		return x
	}
	return e.c.opt.Cwd + "/" + x
}

// tildeExpand ports tilde_expand_filename(path, getuid()) for root: "~",
// "~/path", "~user" and "~user/path"; an unknown user or a result of
// PATH_MAX bytes or more makes sshd exit.
func (e *evaluator) tildeExpand(l lineCtx, p string) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	rest := p[1:]
	user, path, hasPath := "", "", false
	switch {
	case rest == "":
	case rest[0] == '/':
		path = strings.TrimLeft(rest, "/")
		hasPath = path != ""
	default:
		user = rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			user = rest[:i]
			path = strings.TrimLeft(rest[i+1:], "/")
			hasPath = path != ""
		}
	}
	lookup := user
	if lookup == "" {
		lookup = "root"
	}
	home, ok := "", false
	if e.c.opt.Users != nil {
		home, ok = e.c.opt.Users.Home(lookup)
	}
	if !ok && user == "" {
		home, ok = "/root", true
	}
	if !ok {
		msg := "tilde_expand: No such user " + user
		e.add(Diag{Pos: l.at(0), Kind: KindBadValue, Severity: SevFatal, Msg: "no such user " + user + " for ~", SSHD: msg})
		return p
	}
	out := home
	if home == "" || !strings.HasSuffix(home, "/") {
		out += "/"
	}
	if hasPath {
		out += path
	}
	if len(out) >= 4096 {
		e.add(Diag{Pos: l.at(0), Kind: KindBadValue, Severity: SevFatal, Msg: "path too long after ~ expansion", SSHD: "tilde_expand: Path too long"})
	}
	return out
}

// msTrueFalse is the flag table of 10.6's TCPKeepAlive and WarnWeakCrypto,
// which read yes, no, true and false and print true and false.
var msTrueFalse = []state{{"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0}}

// releaseValue reads the keywords of a common kind whose syntax differs in
// the release read: it reports done when it read the line (ok as a
// reader returns it).
func (d *dirLine) releaseValue(op opcode, o *options) (ok, done bool) {
	r := d.e.c.rel
	switch {
	case op == sTCPKeepAlive && r.AtLeast("10.6"):
		return d.choice(&o.tcpKeepAlive, msTrueFalse), true
	case op == sRevokedKeys && r.AtLeast("10.3"):
		return d.revokedKeysList(o), true
	}
	return false, false
}

// revokedKeysList ports sRevokedKeys from 10.3 (parse_filenames): the
// files of the first line, ~ expanded; "none" alone.
func (d *dirLine) revokedKeysList(o *options) bool {
	found := len(o.revokedKeysFiles.v) == 0
	var files []string
	for arg, ok := d.av.next(); ok; arg, ok = d.av.next() {
		if arg == "" {
			d.e.errorLine(d.l, d.argi(), KindBadValue, fmt.Sprintf("keyword %s empty argument", d.l.kw))
			return false
		}
		if strings.EqualFold(arg, "none") && (len(files) > 0 || d.av.left() > 0) {
			d.e.errorLine(d.l, d.argi(), KindBadValue, fmt.Sprintf("keyword %s \"none\" argument must appear alone.", d.l.kw))
			return false
		}
		files = append(files, d.e.tildeExpand(d.l, arg))
	}
	if len(files) == 0 {
		return d.fatal(-1, KindBadValue, fmt.Sprintf("no %s specified", d.l.kw))
	}
	if found && d.e.active {
		for _, f := range files {
			o.revokedKeysFiles.add(f, d.l.pos)
		}
	}
	return true
}

// perSourcePenalties ports sPerSourcePenalties (9.8): "yes" or "no" alone,
// or kind:duration, max-sources4:N, max-sources6:N, overflow:MODE and
// overflow6:MODE words; each the first time it is set, and any of them
// turns penalties on. From 10.3 durations may have fractions of seconds,
// and invaliduser: is known.
func (d *dirLine) perSourcePenalties(o *options) bool {
	r := d.e.c.rel
	p := &o.penalties
	found := false
	for arg, ok := d.av.next(); ok; arg, ok = d.av.next() {
		found = true
		if strings.EqualFold(arg, "no") || strings.EqualFold(arg, "yes") {
			if d.av.left() > 0 {
				return d.bad(fmt.Sprintf("keyword %s \"%s\" argument must appear alone.", d.l.kw, arg))
			}
			if d.e.active && p.enabled == -1 {
				p.enabled = 0
				if strings.EqualFold(arg, "yes") {
					p.enabled = 1
				}
				p.pos = d.l.pos
			}
			continue
		}
		var dur *float64
		var num *int
		value := -1
		name, rest, _ := strings.Cut(arg, ":")
		switch {
		case !strings.Contains(arg, ":"):
			return d.bad(fmt.Sprintf("unsupported %s keyword %s", d.l.kw, arg))
		case name == "crash":
			dur = &p.crash
		case name == "authfail":
			dur = &p.authfail
		case name == "invaliduser" && r.AtLeast("10.3"):
			dur = &p.invaliduser
		case name == "noauth":
			dur = &p.noauth
		case name == "grace-exceeded":
			dur = &p.grace
		case name == "refuseconnection":
			dur = &p.refuse
		case name == "max":
			dur = &p.max
		case name == "min":
			dur = &p.min
		case name == "max-sources4" || name == "max-sources6":
			num = &p.sources4
			if name == "max-sources6" {
				num = &p.sources6
			}
			v, errstr := atoiErr(rest, true)
			if errstr != "" {
				return d.bad(fmt.Sprintf("%s value %s.", d.l.kw, errstr))
			}
			value = v
		case arg == "overflow:deny-all", arg == "overflow:permissive", arg == "overflow6:deny-all", arg == "overflow6:permissive":
			num = &p.overflow
			if name == "overflow6" {
				num = &p.overflow6
			}
			value = overflowPermissive
			if rest == "deny-all" {
				value = overflowDenyAll
			}
		default:
			return d.bad(fmt.Sprintf("unsupported %s keyword %s", d.l.kw, arg))
		}
		if dur != nil {
			var v float64
			if r.AtLeast("10.3") {
				v = convtimeDouble(rest)
			} else {
				v = float64(convtime(rest))
			}
			if v < 0 {
				return d.bad(fmt.Sprintf("invalid %s time value.", d.l.kw))
			}
			if d.e.active && *dur < 0 {
				*dur, p.enabled, p.pos = v, 1, d.l.pos
			}
			continue
		}
		if d.e.active && *num == -1 {
			*num, p.enabled, p.pos = value, 1, d.l.pos
		}
	}
	if !found {
		return d.bad(fmt.Sprintf("no %s specified", d.l.kw))
	}
	return true
}

// convtimeDouble ports convtime_double (10.3): N[smhdw] parts like
// convtime, where a part in seconds may have a decimal fraction; -1 when
// invalid.
func convtimeDouble(s string) float64 {
	if s == "" {
		return -1
	}
	total, seenSeconds := 0.0, false
	for p := s; p != ""; {
		if !(p[0] >= '0' && p[0] <= '9' || p[0] == '.') {
			return -1
		}
		n := 0
		for n < len(p) && (p[n] >= '0' && p[n] <= '9' || p[n] == '.') {
			n++
		}
		// strtod reads the longest number; "1.2.3" stops at the second dot.
		num := p[:n]
		if i := strings.IndexByte(num, '.'); i >= 0 {
			if j := strings.IndexByte(num[i+1:], '.'); j >= 0 {
				num = num[:i+1+j]
			}
		}
		if num == "." {
			return -1
		}
		val, err := strconv.ParseFloat(num, 64)
		if err != nil || len(num) != n {
			return -1 // a number strtod stops inside of: not all decimal
		}
		p = p[n:]
		mult := 1.0
		if p != "" {
			u := unitOf(p[0])
			if u == 0 {
				return -1
			}
			mult = float64(u)
		}
		if mult == 1 {
			if seenSeconds {
				return -1
			}
			seenSeconds = true
		}
		if strings.Contains(num, ".") && (mult > 1 || num[len(num)-1] < '0' || num[len(num)-1] > '9') {
			return -1 // fractions only of seconds, and digits after the dot
		}
		total += val * mult
		if p != "" {
			p = p[1:]
		}
	}
	return total
}

// perSourcePenaltyExemptList ports sPerSourcePenaltyExemptList (9.8): an
// address list, the first one.
func (d *dirLine) perSourcePenaltyExemptList(o *options) bool {
	arg, ok := d.arg("missing argument.")
	if !ok {
		return true
	}
	if addrMatchList("", true, arg) != 0 {
		return d.bad(fmt.Sprintf("keyword %s invalid address argument.", d.l.kw))
	}
	d.setStr(&o.perSourcePenaltyExempt, arg)
	return true
}

// agentSocketPath ports AgentSocketPath of Debian forky's 10.6p1 (no
// upstream source here; measured): "none" or "user:PATH", the first value;
// anything else is "invalid path.".
func (d *dirLine) agentSocketPath(o *options) bool {
	arg, ok := d.arg(missingArg)
	if !ok {
		return true
	}
	if !strings.EqualFold(arg, "none") && !strings.HasPrefix(arg, "user:") {
		return d.bad("invalid path.")
	}
	d.setStr(&o.agentSocketPath, arg)
	return true
}

// String formats p as r's sshd -T prints it: integers up to 10.2, "%f"
// from 10.3 (with invaliduser:).
func (p penalties) String(r *Release) string {
	if p.enabled == 0 {
		return "no"
	}
	f := func(v float64) string { return strconv.Itoa(int(v)) }
	if r.AtLeast("10.3") {
		f = func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	}
	mode := func(m int) string {
		if m == overflowDenyAll {
			return "deny-all"
		}
		return "permissive"
	}
	var b strings.Builder
	b.WriteString("crash:" + f(p.crash) + " authfail:" + f(p.authfail) + " noauth:" + f(p.noauth))
	if r.AtLeast("10.3") {
		b.WriteString(" invaliduser:" + f(p.invaliduser))
	}
	b.WriteString(" grace-exceeded:" + f(p.grace) + " refuseconnection:" + f(p.refuse) + " max:" + f(p.max) + " min:" + f(p.min))
	b.WriteString(" max-sources4:" + strconv.Itoa(p.sources4) + " max-sources6:" + strconv.Itoa(p.sources6))
	b.WriteString(" overflow:" + mode(p.overflow) + " overflow6:" + mode(p.overflow6))
	return b.String()
}

// argvAssemble ports argv_assemble (misc.c): the words joined by blanks,
// backslash, quote and double quote escaped, a word with blanks in double
// quotes.
func argvAssemble(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		ws := strings.ContainsAny(w, " \t")
		if ws {
			b.WriteByte('"')
		}
		for j := 0; j < len(w); j++ {
			if c := w[j]; c == '\\' || c == '\'' || c == '"' {
				b.WriteByte('\\')
			}
			b.WriteByte(w[j])
		}
		if ws {
			b.WriteByte('"')
		}
	}
	return b.String()
}
