package sshdconf

import (
	"fmt"
	"strings"
)

// This file ports the opcode switch of process_server_config_line_depth
// (servconf.c). [handlers] maps each keyword's opcode to the function that
// reads its arguments. Most keywords take one value of a common kind (a
// flag, a choice, an integer, a time, a file name, an algorithm list) and
// keep the first value obtained: their handlers are built, below, from the
// options field they set. A keyword with a syntax of its own has a function
// of its own, in keywordfuncs.go; Include and Match are in include.go.

// dirLine is one directive line as a case of sshd's switch sees it: the
// options it sets, its arguments, and the raw line for the keywords that
// read the rest of it.
type dirLine struct {
	e     *evaluator
	o     *options
	l     lineCtx
	av    argv
	line  []byte // NUL-terminated, for the keywords that read the rest of it
	str   int    // where the arguments start in line
	depth int    // the Include depth of the line's file
}

// A handler reads the arguments of one directive into d.o. It returns
// false where sshd counts a bad option ("goto out" with ret -1); fatal
// problems become diagnostics, and the handler returns true.
type handler func(d *dirLine) bool

// Accessors of an options field, for the handlers of the common kinds.
type (
	intField  func(*options) *ival
	strField  func(*options) *sval
	listField func(*options) *lval
)

// handlers is the switch of process_server_config_line_depth, by opcode.
var handlers = [...]handler{
	sUsePAM:                          flag(func(o *options) *ival { return &o.usePAM }),
	sPort:                            (*dirLine).port,
	sLoginGraceTime:                  timeValue(func(o *options) *ival { return &o.loginGraceTime }),
	sListenAddress:                   (*dirLine).listenAddress,
	sAddressFamily:                   choice(func(o *options) *ival { return &o.addressFamily }, msAddrFamily),
	sHostKeyFile:                     fileList(func(o *options) *lval { return &o.hostKeyFiles }),
	sHostKeyAgent:                    (*dirLine).hostKeyAgent,
	sHostCertificate:                 fileList(func(o *options) *lval { return &o.hostCertFiles }),
	sPidFile:                         fileName(func(o *options) *sval { return &o.pidFile }),
	sModuliFile:                      fileName(func(o *options) *sval { return &o.moduliFile }),
	sPermitRootLogin:                 choice(func(o *options) *ival { return &o.permitRootLogin }, msRootLogin),
	sIgnoreRhosts:                    choice(func(o *options) *ival { return &o.ignoreRhosts }, msIgnoreRhost),
	sIgnoreUserKnownHosts:            flag(func(o *options) *ival { return &o.ignoreUserKnownHosts }),
	sHostbasedAuthentication:         flag(func(o *options) *ival { return &o.hostbasedAuthentication }),
	sHostbasedUsesNameFromPacketOnly: flag(func(o *options) *ival { return &o.hostbasedUsesNameFromPacket }),
	sHostbasedAcceptedAlgorithms:     keyAlgos(func(o *options) *sval { return &o.hostbasedAcceptedAlgos }),
	sHostKeyAlgorithms:               keyAlgos(func(o *options) *sval { return &o.hostKeyAlgorithms }),
	sCASignatureAlgorithms:           keyAlgos(func(o *options) *sval { return &o.caSignAlgorithms }),
	sPubkeyAuthentication:            flag(func(o *options) *ival { return &o.pubkeyAuthentication }),
	sPubkeyAcceptedAlgorithms:        keyAlgos(func(o *options) *sval { return &o.pubkeyAcceptedAlgos }),
	sPubkeyAuthOptions:               (*dirLine).pubkeyAuthOptions,
	sKerberosAuthentication:          flag(func(o *options) *ival { return &o.kerberosAuthentication }),
	sKerberosOrLocalPasswd:           flag(func(o *options) *ival { return &o.kerberosOrLocalPasswd }),
	sKerberosTicketCleanup:           flag(func(o *options) *ival { return &o.kerberosTicketCleanup }),
	sGssAuthentication:               flag(func(o *options) *ival { return &o.gssAuthentication }),
	sGssKeyEx:                        flag(func(o *options) *ival { return &o.gssKeyEx }),
	sGssCleanupCreds:                 flag(func(o *options) *ival { return &o.gssCleanupCreds }),
	sGssStrictAcceptor:               flag(func(o *options) *ival { return &o.gssStrictAcceptor }),
	sGssStoreRekey:                   flag(func(o *options) *ival { return &o.gssStoreRekey }),
	sGssKexAlgorithms:                (*dirLine).gssKexAlgorithms,
	sPasswordAuthentication:          flag(func(o *options) *ival { return &o.passwordAuthentication }),
	sKbdInteractiveAuthentication:    flag(func(o *options) *ival { return &o.kbdInteractiveAuthentication }),
	sPrintMotd:                       flag(func(o *options) *ival { return &o.printMotd }),
	sPrintLastLog:                    flag(func(o *options) *ival { return &o.printLastLog }),
	sX11Forwarding:                   flag(func(o *options) *ival { return &o.x11Forwarding }),
	sX11DisplayOffset:                integer(func(o *options) *ival { return &o.x11DisplayOffset }),
	sX11UseLocalhost:                 flag(func(o *options) *ival { return &o.x11UseLocalhost }),
	sXAuthLocation:                   fileName(func(o *options) *sval { return &o.xauthLocation }),
	sPermitTTY:                       flag(func(o *options) *ival { return &o.permitTTY }),
	sPermitUserRC:                    flag(func(o *options) *ival { return &o.permitUserRC }),
	sStrictModes:                     flag(func(o *options) *ival { return &o.strictModes }),
	sTCPKeepAlive:                    flag(func(o *options) *ival { return &o.tcpKeepAlive }),
	sEmptyPasswd:                     flag(func(o *options) *ival { return &o.permitEmptyPasswd }),
	sPermitUserEnvironment:           (*dirLine).permitUserEnvironment,
	sCompression:                     choice(func(o *options) *ival { return &o.compression }, msCompression),
	sRekeyLimit:                      (*dirLine).rekeyLimit,
	sGatewayPorts:                    choice(func(o *options) *ival { return &o.gatewayPorts }, msGatewayPort),
	sUseDNS:                          flag(func(o *options) *ival { return &o.useDNS }),
	sLogFacility:                     (*dirLine).logFacility,
	sLogLevel:                        (*dirLine).logLevel,
	sLogVerbose:                      (*dirLine).logVerbose,
	sAllowTcpForwarding:              choice(func(o *options) *ival { return &o.allowTCPForwarding }, msTCPFwd),
	sAllowStreamLocalForwarding:      choice(func(o *options) *ival { return &o.allowStreamLocalForwarding }, msTCPFwd),
	sAllowAgentForwarding:            flag(func(o *options) *ival { return &o.allowAgentForwarding }),
	sDisableForwarding:               flag(func(o *options) *ival { return &o.disableForwarding }),
	sAllowUsers:                      userPatterns(func(o *options) *lval { return &o.allowUsers }),
	sDenyUsers:                       userPatterns(func(o *options) *lval { return &o.denyUsers }),
	sAllowGroups:                     groupPatterns(func(o *options) *lval { return &o.allowGroups }),
	sDenyGroups:                      groupPatterns(func(o *options) *lval { return &o.denyGroups }),
	sCiphers:                         algoList(func(o *options) *sval { return &o.ciphers }, (*algorithms).ciphersValid, "Bad SSH2 cipher spec '%s'."),
	sMacs:                            algoList(func(o *options) *sval { return &o.macs }, (*algorithms).macsValid, "Bad SSH2 mac spec '%s'."),
	sKexAlgorithms:                   algoList(func(o *options) *sval { return &o.kexAlgorithms }, (*algorithms).kexValid, "Bad SSH2 KexAlgorithms '%s'."),
	sSubsystem:                       (*dirLine).subsystem,
	sMaxStartups:                     (*dirLine).maxStartups,
	sPerSourceNetBlockSize:           (*dirLine).perSourceNetBlockSize,
	sPerSourceMaxStartups:            (*dirLine).perSourceMaxStartups,
	sMaxAuthTries:                    integer(func(o *options) *ival { return &o.maxAuthTries }),
	sMaxSessions:                     integer(func(o *options) *ival { return &o.maxSessions }),
	sBanner:                          fileName(func(o *options) *sval { return &o.banner }),
	sAuthorizedKeysFile:              (*dirLine).authorizedKeysFile,
	sAuthorizedPrincipalsFile:        (*dirLine).authorizedPrincipalsFile,
	sClientAliveInterval:             timeValue(func(o *options) *ival { return &o.clientAliveInterval }),
	sClientAliveCountMax:             integer(func(o *options) *ival { return &o.clientAliveCountMax }),
	sAcceptEnv:                       (*dirLine).acceptEnv,
	sSetEnv:                          (*dirLine).setEnv,
	sPermitTunnel:                    (*dirLine).permitTunnel,
	sPermitListen:                    permitHosts(func(o *options) *lval { return &o.permittedListens }, true),
	sPermitOpen:                      permitHosts(func(o *options) *lval { return &o.permittedOpens }, false),
	sForceCommand:                    (*dirLine).forceCommand,
	sChrootDirectory:                 word(func(o *options) *sval { return &o.chrootDirectory }, missingArg),
	sTrustedUserCAKeys:               fileName(func(o *options) *sval { return &o.trustedUserCAKeys }),
	sRevokedKeys:                     fileName(func(o *options) *sval { return &o.revokedKeysFile }),
	sSecurityKeyProvider:             (*dirLine).securityKeyProvider,
	sIPQoS:                           (*dirLine).ipQoS,
	sVersionAddendum:                 (*dirLine).versionAddendum,
	sAuthorizedKeysCommand:           command(func(o *options) *sval { return &o.authorizedKeysCommand }),
	sAuthorizedPrincipalsCommand:     command(func(o *options) *sval { return &o.authorizedPrincipalsCommand }),
	sAuthorizedKeysCommandUser:       word(func(o *options) *sval { return &o.authorizedKeysCommandUser }, "missing %s argument."),
	sAuthorizedPrincipalsCommandUser: word(func(o *options) *sval { return &o.authorizedPrincipalsCmdUser }, "missing %s argument."),
	sAuthenticationMethods:           (*dirLine).authenticationMethods,
	sStreamLocalBindMask:             (*dirLine).streamLocalBindMask,
	sStreamLocalBindUnlink:           flag(func(o *options) *ival { return &o.streamLocalBindUnlink }),
	sFingerprintHash:                 (*dirLine).fingerprintHash,
	sExposeAuthInfo:                  flag(func(o *options) *ival { return &o.exposeUserauthInfo }),
	sRDomain:                         (*dirLine).rDomain,
	sRequiredRSASize:                 integer(func(o *options) *ival { return &o.requiredRSASize }),
	sChannelTimeout:                  (*dirLine).channelTimeout,
	sUnusedConnectionTimeout:         (*dirLine).unusedConnectionTimeout,
	sDebianBanner:                    flag(func(o *options) *ival { return &o.debianBanner }),
	sDeprecated:                      ignored("Deprecated"),
	sIgnore:                          ignored("Deprecated"),
	sUnsupported:                     ignored("Unsupported"),
}

// directive reads one directive line whose keyword has opcode op, as the
// body of process_server_config_line_depth's switch does.
func (d *dirLine) directive(op opcode) bool {
	switch op {
	case sInclude:
		return d.include()
	case sMatch:
		return d.match()
	}
	if int(op) < len(handlers) && handlers[op] != nil {
		return handlers[op](d)
	}
	return d.fatal(-1, KindBadValue, fmt.Sprintf("Missing handler for opcode %s (%d)", d.l.kw, op))
}

// fatal reports the fatal "FILE line N: text" at argument arg (-1: the
// keyword) and returns true, as the handlers do after it.
func (d *dirLine) fatal(arg int, kind DiagKind, text string) bool {
	d.e.fatalLine(d.l, arg, kind, text)
	return true
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

// choice is a keyword whose argument is one of the names of a multistate
// table of servconf.c (any case): parse_multistate.
func choice(f intField, table []state) handler {
	return func(d *dirLine) bool {
		arg, ok := d.arg("missing argument.")
		if !ok {
			return true
		}
		v := lookupState(table, arg, true)
		if v == -1 {
			return d.bad(fmt.Sprintf("unsupported option \"%s\".", arg))
		}
		d.setInt(f(d.o), v)
		return true
	}
}

// flag is a yes/no keyword: parse_flag.
func flag(f intField) handler { return choice(f, msFlag) }

// timeValue is a keyword whose argument is a time: parse_time.
func timeValue(f intField) handler {
	return func(d *dirLine) bool { return d.time(f(d.o)) }
}

// time reads a time argument into dst (parse_time).
func (d *dirLine) time(dst *ival) bool {
	arg, ok := d.arg("missing time value.")
	if !ok {
		return true
	}
	v := convtime(arg)
	if v == -1 {
		return d.bad("invalid time value.")
	}
	d.setInt(dst, v)
	return true
}

// integer is a keyword whose argument is a non-negative integer: parse_int.
func integer(f intField) handler {
	return func(d *dirLine) bool {
		arg, ok := d.av.next()
		v, errstr := atoiErr(arg, ok)
		if errstr != "" {
			return d.bad(fmt.Sprintf("%s integer value %s.", d.l.kw, errstr))
		}
		d.setInt(f(d.o), v)
		return true
	}
}

// fileName is a keyword whose argument is a file name, made absolute
// against sshd's working directory: parse_filename.
func fileName(f strField) handler {
	return func(d *dirLine) bool {
		arg, ok := d.arg("missing file name.")
		if !ok {
			return true
		}
		if dst := f(d.o); d.e.active && !dst.set {
			dst.set1(d.e.derelativise(d.l, arg), d.l.pos)
		}
		return true
	}
}

// fileList is a keyword each line of which adds a file name to a list
// (HostKey, HostCertificate).
func fileList(f listField) handler {
	return func(d *dirLine) bool {
		arg, ok := d.arg("missing file name.")
		if !ok {
			return true
		}
		if d.e.active {
			f(d.o).add(d.e.derelativise(d.l, arg), d.l.pos)
		}
		return true
	}
}

// word is a keyword whose argument is one word, kept as written; msg is
// the message when it is missing.
func word(f strField, msg string) handler {
	return func(d *dirLine) bool {
		arg, ok := d.arg(msg)
		if !ok {
			return true
		}
		d.setStr(f(d.o), arg)
		return true
	}
}

// keyAlgos is a keyword whose argument is a list of key algorithms,
// possibly starting with '+', '-' or '^'.
func keyAlgos(f strField) handler {
	return func(d *dirLine) bool {
		arg, ok := d.arg("Missing argument.")
		if !ok {
			return true
		}
		if arg[0] != '-' && !d.e.c.alg.keyNamesValid(strings.TrimLeft(arg[:1], "+^")+arg[1:]) {
			return d.bad(fmt.Sprintf("Bad key types '%s'.", arg))
		}
		d.setStr(f(d.o), arg)
		return true
	}
}

// algoList is a global keyword whose argument is a list of algorithms that
// valid accepts, possibly starting with '+', '-' or '^'; text is the
// message for an invalid list.
func algoList(f strField, valid func(*algorithms, string) bool, text string) handler {
	return func(d *dirLine) bool {
		arg, ok := d.arg(missingArg)
		if !ok {
			return true
		}
		if arg[0] != '-' && !valid(d.e.c.alg, strings.TrimLeft(arg[:1], "+^")+arg[1:]) {
			return d.bad(fmt.Sprintf(text, arg))
		}
		if dst := f(d.o); !dst.set { // no check of active: global-only keywords
			dst.set1(arg, d.l.pos)
		}
		return true
	}
}

// userPatterns is AllowUsers or DenyUsers: every line adds its patterns.
func userPatterns(f listField) handler {
	return func(d *dirLine) bool {
		for arg, ok := d.av.next(); ok; arg, ok = d.av.next() {
			if arg == "" || !validUserPattern(arg) {
				return d.bad(fmt.Sprintf("invalid %s pattern: \"%s\"", d.l.kw, arg))
			}
			if d.e.active {
				f(d.o).add(arg, d.l.pos)
			}
		}
		return true
	}
}

// groupPatterns is AllowGroups or DenyGroups: every line adds its patterns.
func groupPatterns(f listField) handler {
	return func(d *dirLine) bool {
		for arg, ok := d.av.next(); ok; arg, ok = d.av.next() {
			if arg == "" {
				return d.bad(fmt.Sprintf("empty %s pattern", d.l.kw))
			}
			if d.e.active {
				f(d.o).add(arg, d.l.pos)
			}
		}
		return true
	}
}

// command is a keyword whose value is the rest of the line, an absolute
// path or "none" (AuthorizedKeysCommand, AuthorizedPrincipalsCommand).
func command(f strField) handler {
	return func(d *dirLine) bool {
		v := strings.TrimLeft(string(cstr(d.line, d.str)), whitespace)
		if !strings.HasPrefix(v, "/") && !strings.EqualFold(v, "none") {
			return d.fatal(0, KindBadValue, fmt.Sprintf("%s must be an absolute path", d.l.kw))
		}
		// sshd tests authorized_keys_command for both keywords.
		if d.e.active && !d.o.authorizedKeysCommand.set {
			f(d.o).set1(v, d.l.pos)
		}
		d.av.consume()
		return true
	}
}

// permitHosts is PermitOpen or PermitListen (listen): "any", "none", or
// host:port entries, the list of the first line.
func permitHosts(f listField, listen bool) handler {
	return func(d *dirLine) bool {
		arg, ok := d.arg(missingArg)
		if !ok {
			return true
		}
		dst := f(d.o)
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
					return d.bad(fmt.Sprintf("%s missing host", d.l.kw))
				}
				if more == nil {
					return d.bad(fmt.Sprintf("%s bad port number", d.l.kw))
				}
				port = *more
			}
			if permitopenPort(port, d.e.c.opt.Services) < 0 {
				return d.bad(fmt.Sprintf("%s bad port number", d.l.kw))
			}
			if d.e.active && first {
				dst.add(entry, d.l.pos)
			}
			arg, ok = d.av.next()
		}
		return true
	}
}
