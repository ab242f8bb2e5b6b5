package sshdconf

import (
	"fmt"
	"strings"
)

// This file ports the opcode switch of process_server_config_line_depth
// (servconf.c). Most keywords take one value of a common kind (a flag, a
// choice, an integer, a time, a file name, an algorithm list): [values]
// maps their opcodes to the kind and the options field they set, and a
// method of dirLine per kind reads them. A keyword with a syntax of its own
// has a method of its own, in keywordfuncs.go (Include and Match in
// include.go), which [dirLine.directive] calls by opcode. The table holds
// data, not functions of the line, so that a line's state stays on the
// stack.

// dirLine is one directive line as a case of sshd's switch sees it: the
// options it sets, its arguments, and the raw line for the keywords that
// read the rest of it.
type dirLine struct {
	e     *evaluator
	l     lineCtx
	av    argv
	str   int // where the arguments start in the line
	depth int // the Include depth of the line's file
}

// kind is how the arguments of a keyword of a common kind are read.
type kind uint8

const (
	kindSpecial  kind = iota // a method of its own (keywordfuncs.go)
	kindChoice               // a name of a multistate table: parse_multistate, parse_flag
	kindTime                 // a time: parse_time
	kindInt                  // a non-negative integer: parse_int
	kindFile                 // a file name made absolute: parse_filename
	kindFileList             // every line adds a file name
	kindWord                 // one word, kept as written
	kindKeyAlgos             // a list of key algorithms
	kindAlgos                // a list of algorithms of a global keyword
	kindUsers                // every line adds user patterns
	kindGroups               // every line adds group patterns
	kindCommand              // the rest of the line, an absolute path or "none"
	kindPermit               // PermitOpen, PermitListen
	kindIgnored              // deprecated or unsupported: logged, skipped
)

// value says how to read a keyword of a common kind: its kind and what the
// kind needs besides. The options field it sets is options.intField,
// strField or listField of its opcode (a switch, not a function in the
// table: a call through a function value would move the options of every
// pass, and the line, to the heap).
type value struct {
	kind   kind
	table  []state                        // kindChoice
	valid  func(*algorithms, string) bool // kindAlgos
	msg    string                         // kindWord: when missing; kindAlgos: when invalid; kindIgnored: what
	listen bool                           // kindPermit: PermitListen
	pre83  []state                        // kindChoice: the table before 8.3 (IgnoreRhosts shosts-only came in 8.3)
	pre87  string                         // kindWord: the message when missing before 8.7, if other
}

// values is the part of process_server_config_line_depth's switch that
// reads keywords of a common kind, by opcode.
var values = [...]value{
	sUsePAM:                          flag(),
	sLoginGraceTime:                  timeValue(),
	sAddressFamily:                   choice(msAddrFamily),
	sHostKeyFile:                     fileList(),
	sHostCertificate:                 fileList(),
	sPidFile:                         fileName(),
	sModuliFile:                      fileName(),
	sPermitRootLogin:                 choice(msRootLogin),
	sIgnoreRhosts:                    {kind: kindChoice, table: msIgnoreRhost, pre83: msFlag},
	sIgnoreUserKnownHosts:            flag(),
	sHostbasedAuthentication:         flag(),
	sHostbasedUsesNameFromPacketOnly: flag(),
	sHostbasedAcceptedAlgorithms:     keyAlgos(),
	sHostKeyAlgorithms:               keyAlgos(),
	sCASignatureAlgorithms:           keyAlgos(),
	sPubkeyAuthentication:            flag(),
	sPubkeyAcceptedAlgorithms:        keyAlgos(),
	sKerberosAuthentication:          flag(),
	sKerberosOrLocalPasswd:           flag(),
	sKerberosTicketCleanup:           flag(),
	sGssAuthentication:               flag(),
	sGssKeyEx:                        flag(),
	sGssCleanupCreds:                 flag(),
	sGssStrictAcceptor:               flag(),
	sGssStoreRekey:                   flag(),
	sPasswordAuthentication:          flag(),
	sKbdInteractiveAuthentication:    flag(),
	sPrintMotd:                       flag(),
	sPrintLastLog:                    flag(),
	sX11Forwarding:                   flag(),
	sX11DisplayOffset:                integer(),
	sX11UseLocalhost:                 flag(),
	sXAuthLocation:                   fileName(),
	sPermitTTY:                       flag(),
	sPermitUserRC:                    flag(),
	sStrictModes:                     flag(),
	sTCPKeepAlive:                    flag(),
	sEmptyPasswd:                     flag(),
	sCompression:                     choice(msCompression),
	sGatewayPorts:                    choice(msGatewayPort),
	sUseDNS:                          flag(),
	sAllowTcpForwarding:              choice(msTCPFwd),
	sAllowStreamLocalForwarding:      choice(msTCPFwd),
	sAllowAgentForwarding:            flag(),
	sDisableForwarding:               flag(),
	sAllowUsers:                      userPatterns(),
	sDenyUsers:                       userPatterns(),
	sAllowGroups:                     groupPatterns(),
	sDenyGroups:                      groupPatterns(),
	sCiphers:                         algoList((*algorithms).ciphersValid, "Bad SSH2 cipher spec '%s'."),
	sMacs:                            algoList((*algorithms).macsValid, "Bad SSH2 mac spec '%s'."),
	sKexAlgorithms:                   algoList((*algorithms).kexValid, "Bad SSH2 KexAlgorithms '%s'."),
	sMaxAuthTries:                    integer(),
	sMaxSessions:                     integer(),
	sBanner:                          fileName(),
	sClientAliveInterval:             timeValue(),
	sClientAliveCountMax:             integer(),
	sPermitListen:                    permitHosts(true),
	sPermitOpen:                      permitHosts(false),
	sChrootDirectory:                 {kind: kindWord, msg: missingArg, pre87: "missing file name."},
	sTrustedUserCAKeys:               fileName(),
	sRevokedKeys:                     fileName(),
	sAuthorizedKeysCommand:           command(),
	sAuthorizedPrincipalsCommand:     command(),
	sAuthorizedKeysCommandUser:       word("missing %s argument."),
	sAuthorizedPrincipalsCommandUser: word("missing %s argument."),
	sStreamLocalBindUnlink:           flag(),
	sExposeAuthInfo:                  flag(),
	sRequiredRSASize:                 integer(),
	sDebianBanner:                    flag(),
	sSshdSessionPath:                 fileName(),
	sSshdAuthPath:                    fileName(),
	sRefuseConnection:                flag(),
	sPAMServiceName:                  word("missing argument."),
	sGSSAPIDelegateCredentials:       flag(),
	sWarnWeakCrypto:                  choice(msTrueFalse),
	sChallengeResponse:               flag(),
	sDeprecated:                      {kind: kindIgnored, msg: "Deprecated"},
	sIgnore:                          {kind: kindIgnored, msg: "Deprecated"},
	sUnsupported:                     {kind: kindIgnored, msg: "Unsupported"},
}

// directive reads one directive line whose keyword has opcode op into o,
// as the body of process_server_config_line_depth's switch does. line is
// the NUL-terminated line, for the keywords that read the rest of it.
// (Neither o nor line is a field of d, so that the escape analysis, which
// does not tell d's fields apart, keeps them on the stack.) It returns false
// where sshd counts a bad option ("goto out" with ret -1); fatal problems
// become diagnostics, and it returns true.
func (d *dirLine) directive(op opcode, o *options, line []byte) bool {
	if int(op) < len(values) && values[op].kind != kindSpecial {
		return d.value(op, &values[op], o, line)
	}
	switch op {
	case sPort:
		return d.port(o)
	case sListenAddress:
		return d.listenAddress(o)
	case sHostKeyAgent:
		return d.hostKeyAgent(o)
	case sPubkeyAuthOptions:
		return d.pubkeyAuthOptions(o)
	case sGssKexAlgorithms:
		return d.gssKexAlgorithms(o)
	case sPermitUserEnvironment:
		return d.permitUserEnvironment(o)
	case sRekeyLimit:
		return d.rekeyLimit(o)
	case sLogFacility:
		return d.logFacility(o)
	case sLogLevel:
		return d.logLevel(o)
	case sLogVerbose:
		return d.logVerbose(o)
	case sSubsystem:
		return d.subsystem(o)
	case sMaxStartups:
		return d.maxStartups(o)
	case sPerSourceNetBlockSize:
		return d.perSourceNetBlockSize(o)
	case sPerSourceMaxStartups:
		return d.perSourceMaxStartups(o)
	case sAuthorizedKeysFile:
		return d.authorizedKeysFile(o)
	case sAuthorizedPrincipalsFile:
		return d.authorizedPrincipalsFile(o)
	case sAcceptEnv:
		return d.acceptEnv(o)
	case sSetEnv:
		return d.setEnv(o, line)
	case sPermitTunnel:
		return d.permitTunnel(o)
	case sInclude:
		return d.include(o)
	case sMatch:
		return d.match(line)
	case sForceCommand:
		return d.forceCommand(o, line)
	case sSecurityKeyProvider:
		return d.securityKeyProvider(o)
	case sIPQoS:
		return d.ipQoS(o)
	case sVersionAddendum:
		return d.versionAddendum(o, line)
	case sAuthenticationMethods:
		return d.authenticationMethods(o)
	case sStreamLocalBindMask:
		return d.streamLocalBindMask(o)
	case sFingerprintHash:
		return d.fingerprintHash(o)
	case sRDomain:
		return d.rDomain(o)
	case sChannelTimeout:
		return d.channelTimeout(o)
	case sUnusedConnectionTimeout:
		return d.unusedConnectionTimeout(o)
	case sPerSourcePenalties:
		return d.perSourcePenalties(o)
	case sPerSourcePenaltyExemptList:
		return d.perSourcePenaltyExemptList(o)
	case sAgentSocketPath:
		return d.agentSocketPath(o)
	}
	return d.fatal(-1, KindBadValue, fmt.Sprintf("Missing handler for opcode %s (%d)", d.l.kw, op))
}

// value reads a keyword of a common kind into o.
func (d *dirLine) value(op opcode, v *value, o *options, line []byte) bool {
	if ok, done := d.releaseValue(op, o); done {
		return ok
	}
	switch v.kind {
	case kindChoice:
		if v.pre83 != nil && d.e.c.rel.Before("8.3") {
			return d.choice(o.intField(op), v.pre83)
		}
		return d.choice(o.intField(op), v.table)
	case kindTime:
		return d.time(o.intField(op))
	case kindInt:
		return d.integer(o.intField(op))
	case kindFile:
		return d.fileName(o.strField(op))
	case kindFileList:
		return d.fileList(o.listField(op))
	case kindWord:
		if v.pre87 != "" {
			return d.word(o.strField(op), d.pre87(v.msg, v.pre87))
		}
		return d.word(o.strField(op), v.msg)
	case kindKeyAlgos:
		return d.keyAlgos(o.strField(op), op == sCASignatureAlgorithms)
	case kindAlgos:
		return d.algoList(o.strField(op), v.valid, v.msg)
	case kindUsers:
		return d.userPatterns(o.listField(op))
	case kindGroups:
		return d.groupPatterns(o.listField(op))
	case kindCommand:
		return d.command(o, o.strField(op), line)
	case kindPermit:
		return d.permitHosts(o.listField(op), v.listen)
	case kindIgnored:
		return d.ignored(v.msg)
	}
	panic("sshdconf: a value of no kind")
}

// fatal reports the fatal "FILE line N: text" at argument arg (-1: the
// keyword) and returns true, as the handlers do after it.
func (d *dirLine) fatal(arg int, kind DiagKind, text string) bool {
	d.e.fatalLine(d.l, arg, kind, text)
	return true
}

// pre87 returns text, or old in releases before 8.7, whose messages named
// the keyword as the manual spells it (or not at all) where 8.7 prints it
// as the line writes it.
func (d *dirLine) pre87(text, old string) string {
	if d.e.c.rel.Before("8.7") {
		return old
	}
	return text
}

// loopNext is the next argument of a keyword that reads all of them.
// Before 8.7 such a loop (while ((arg = strdelim(&cp)) && *arg != '\0'))
// ends at an empty word, which strdelim returns after a quoted last word.
func (d *dirLine) loopNext() (string, bool) {
	arg, ok := d.av.next()
	if ok && arg == "" && d.e.pre87 {
		return "", false
	}
	return arg, ok
}

// bad reports a fatal bad value at the argument read last.
func (d *dirLine) bad(text string) bool { return d.fatal(d.argi(), KindBadValue, text) }

// argi is the index of the argument read last.
func (d *dirLine) argi() int { return d.av.i - 1 }

// missingArg is the message of most keywords whose argument is missing.
const missingArg = "%s missing argument."

// arg reads the next argument, which must be there and not be empty;
// otherwise it reports msg (with the keyword for a %s in it) and returns
// false, and the handler returns true.
func (d *dirLine) arg(msg string) (string, bool) {
	if arg, ok := d.av.next(); ok && arg != "" {
		return arg, true
	}
	if strings.Contains(msg, "%s") {
		msg = fmt.Sprintf(msg, d.l.kw)
	}
	d.bad(msg)
	return "", false
}

// setInt sets a number whose first value wins: on an active line, once.
func (d *dirLine) setInt(dst *ival, v int) {
	if d.e.active && dst.v == -1 {
		*dst = ival{v, d.l.pos}
	}
}

// setStr sets a string whose first value wins: on an active line, once.
func (d *dirLine) setStr(dst *sval, v string) {
	if d.e.active && !dst.set {
		dst.set1(v, d.l.pos)
	}
}

// The constructors of values, by kind.

// flag is a yes/no keyword: parse_flag.
func flag() value { return choice(msFlag) }

// choice is a keyword whose argument is one of the names of table (any
// case): parse_multistate.
func choice(table []state) value { return value{kind: kindChoice, table: table} }

// timeValue is a keyword whose argument is a time: parse_time.
func timeValue() value { return value{kind: kindTime} }

// integer is a keyword whose argument is a non-negative integer: parse_int.
func integer() value { return value{kind: kindInt} }

// fileName is a keyword whose argument is a file name, made absolute
// against sshd's working directory: parse_filename.
func fileName() value { return value{kind: kindFile} }

// fileList is a keyword each line of which adds a file name to a list
// (HostKey, HostCertificate).
func fileList() value { return value{kind: kindFileList} }

// word is a keyword whose argument is one word, kept as written; msg is
// the message when it is missing (with the keyword for a %s in it).
func word(msg string) value { return value{kind: kindWord, msg: msg} }

// keyAlgos is a keyword whose argument is a list of key algorithms,
// possibly starting with '+', '-' or '^'.
func keyAlgos() value { return value{kind: kindKeyAlgos} }

// algoList is a global keyword whose argument is a list of algorithms that
// valid accepts, possibly starting with '+', '-' or '^'; msg is the
// message for an invalid list.
func algoList(valid func(*algorithms, string) bool, msg string) value {
	return value{kind: kindAlgos, valid: valid, msg: msg}
}

// userPatterns is AllowUsers or DenyUsers: every line adds its patterns.
func userPatterns() value { return value{kind: kindUsers} }

// groupPatterns is AllowGroups or DenyGroups: every line adds its patterns.
func groupPatterns() value { return value{kind: kindGroups} }

// command is a keyword whose value is the rest of the line, an absolute
// path or "none" (AuthorizedKeysCommand, AuthorizedPrincipalsCommand).
func command() value { return value{kind: kindCommand} }

// permitHosts is PermitOpen or PermitListen (listen): "any", "none", or
// host:port entries, the list of the first line.
func permitHosts(listen bool) value { return value{kind: kindPermit, listen: listen} }

// The readers of the kinds.

func (d *dirLine) choice(dst *ival, table []state) bool {
	arg, ok := d.arg("missing argument.")
	if !ok {
		return true
	}
	v := lookupState(table, arg, true)
	if v == -1 {
		return d.bad(fmt.Sprintf("unsupported option \"%s\".", arg))
	}
	d.setInt(dst, v)
	return true
}

func (d *dirLine) time(dst *ival) bool {
	arg, ok := d.arg("missing time value.")
	if !ok {
		return true
	}
	v := convtimeIn(arg, d.e.c.rel)
	if v == -1 {
		return d.bad("invalid time value.")
	}
	d.setInt(dst, v)
	return true
}

func (d *dirLine) integer(dst *ival) bool {
	arg, ok := d.av.next()
	v, errstr := atoiErr(arg, ok)
	if errstr != "" {
		return d.bad(d.pre87(fmt.Sprintf("%s integer value %s.", d.l.kw, errstr), fmt.Sprintf("integer value %s.", errstr)))
	}
	d.setInt(dst, v)
	return true
}

func (d *dirLine) fileName(dst *sval) bool {
	arg, ok := d.arg("missing file name.")
	if !ok {
		return true
	}
	if d.e.active && !dst.set {
		dst.set1(d.e.derelativise(d.l, arg), d.l.pos)
	}
	return true
}

func (d *dirLine) fileList(dst *lval) bool {
	arg, ok := d.arg("missing file name.")
	if !ok {
		return true
	}
	if d.e.active {
		dst.add(d.e.derelativise(d.l, arg), d.l.pos)
	}
	return true
}

func (d *dirLine) word(dst *sval, msg string) bool {
	arg, ok := d.arg(msg)
	if !ok {
		return true
	}
	d.setStr(dst, arg)
	return true
}

func (d *dirLine) keyAlgos(dst *sval, caOnly bool) bool {
	arg, ok := d.arg("Missing argument.")
	if !ok {
		return true
	}
	if arg[0] != '-' && !d.e.c.alg.keyNamesValid(d.e.c.alg.names(arg)) {
		return d.bad(fmt.Sprintf("Bad key types '%s'.", arg))
	}
	// From 9.3 (9.2 accepts them, 9.6 not) CASignatureAlgorithms names
	// no certificate type (sshkey_names_valid2's ca_only).
	if arg[0] != '-' && caOnly && d.e.c.rel.AtLeast("9.3") {
		for _, n := range strings.Split(strings.TrimLeft(arg[:1], "+^")+arg[1:], ",") {
			if strings.HasSuffix(n, "-cert-v01@openssh.com") && !strings.ContainsAny(n, "*?") {
				return d.bad(fmt.Sprintf("Bad key types '%s'.", arg))
			}
		}
	}
	d.setStr(dst, arg)
	return true
}

func (d *dirLine) algoList(dst *sval, valid func(*algorithms, string) bool, msg string) bool {
	arg, ok := d.arg(d.pre87(missingArg, "Missing argument."))
	if !ok {
		return true
	}
	if arg[0] != '-' && !valid(d.e.c.alg, d.e.c.alg.names(arg)) {
		return d.bad(fmt.Sprintf(msg, arg))
	}
	if !dst.set { // no check of active: global-only keywords
		dst.set1(arg, d.l.pos)
	}
	return true
}

func (d *dirLine) userPatterns(dst *lval) bool {
	for arg, ok := d.loopNext(); ok; arg, ok = d.loopNext() {
		if arg == "" || !validUserPattern(arg, d.e.addrRules()) {
			return d.bad(d.pre87(fmt.Sprintf("invalid %s pattern: \"%s\"", d.l.kw, arg),
				fmt.Sprintf("invalid %s pattern: \"%.100s\"", Lookup(d.l.kw).Name, arg)))
		}
		if d.e.active {
			dst.add(arg, d.l.pos)
		}
	}
	return true
}

func (d *dirLine) groupPatterns(dst *lval) bool {
	for arg, ok := d.loopNext(); ok; arg, ok = d.loopNext() {
		if arg == "" && d.e.c.rel.AtLeast("8.7") {
			return d.bad(fmt.Sprintf("empty %s pattern", d.l.kw))
		}
		if d.e.active {
			dst.add(arg, d.l.pos)
		}
	}
	return true
}

func (d *dirLine) command(o *options, dst *sval, line []byte) bool {
	v := strings.TrimLeft(string(cstr(line, d.str)), whitespace)
	if d.str < 0 && d.e.pre87 {
		return d.bad("Missing argument.")
	}
	if !strings.HasPrefix(v, "/") && !strings.EqualFold(v, "none") {
		return d.fatal(0, KindBadValue, d.pre87(fmt.Sprintf("%s must be an absolute path", d.l.kw),
			Lookup(d.l.kw).Name+" must be an absolute path"))
	}
	// Up to 9.2 sshd tests authorized_keys_command for both keywords
	// (9.6 tests each its own: measured).
	if d.e.active && (d.e.c.rel.Before("9.3") && !o.authorizedKeysCommand.set || d.e.c.rel.AtLeast("9.3") && !dst.set) {
		dst.set1(v, d.l.pos)
	}
	d.av.consume()
	return true
}

func (d *dirLine) permitHosts(dst *lval, listen bool) bool {
	arg, ok := d.arg(d.pre87(missingArg, "missing "+strings.ToLower(Lookup(d.l.kw).Name)+" specification"))
	if !ok {
		return true
	}
	first := len(dst.v) == 0
	if arg == "any" || arg == "none" {
		if d.e.active && first {
			*dst = lval{}
			dst.add(arg, d.l.pos)
		}
		return true
	}
	for ok && arg != "" {
		var entry, port string
		if listen && !strings.Contains(arg, ":") {
			entry, port = "*:"+arg, arg
		} else {
			entry = arg
			_, more, okh := hpdelim(arg)
			if !okh {
				return d.bad(d.pre87(fmt.Sprintf("%s missing host", d.l.kw), "missing host in "+strings.ToLower(Lookup(d.l.kw).Name)))
			}
			if more == nil {
				return d.bad(d.pre87(fmt.Sprintf("%s bad port number", d.l.kw), "bad port number in "+strings.ToLower(Lookup(d.l.kw).Name)))
			}
			port = *more
		}
		if permitopenPort(port, d.e.c.opt.Services) < 0 {
			return d.bad(d.pre87(fmt.Sprintf("%s bad port number", d.l.kw), "bad port number in "+strings.ToLower(Lookup(d.l.kw).Name)))
		}
		if d.e.active && first {
			dst.add(entry, d.l.pos)
		}
		arg, ok = d.av.next()
	}
	return true
}

// ignored reads sDeprecated, sIgnore and sUnsupported: the line is logged
// (what is "Deprecated" or "Unsupported") and skipped.
func (d *dirLine) ignored(what string) bool {
	// sshd logs sIgnore (Protocol) at DEBUG2 only; lint reports it all the same.
	d.e.add(Diag{Pos: d.l.at(-1), Kind: KindDeprecated, Severity: SevInfo,
		Msg:  fmt.Sprintf("%s is %s and ignored", d.l.kw, strings.ToLower(what)),
		SSHD: fmt.Sprintf("%s line %d: %s option %s", d.l.file, d.l.pos.Line, what, d.l.kw)})
	d.av.consume()
	return true
}
