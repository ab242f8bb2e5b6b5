package sshdconf

import (
	"fmt"
	"strings"
)

// directive ports the body of the opcode switch of
// process_server_config_line_depth. It returns false where sshd counts a bad
// option ("goto out" with ret -1); fatal problems become diagnostics.
func (e *evaluator) directive(o *options, op opcode, l lineCtx, av *argv, line []byte, str int, activep, incFlags *int, depth int) bool {
	active := *activep != 0
	kw := l.kw
	p := l.pos
	// fatal reports "FILE line N: text" at argument arg.
	fatal := func(arg int, kind DiagKind, text string) bool {
		e.fatalLine(l, arg, kind, text)
		return true
	}
	argi := func() int { return av.i - 1 }

	// Shared parsers, like the labels of the C switch.
	parseMulti := func(dst *ival, table []state) bool {
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "missing argument.")
		}
		v := lookupState(table, arg, true)
		if v == -1 {
			return fatal(argi(), KindBadValue, fmt.Sprintf("unsupported option \"%s\".", arg))
		}
		if active && dst.v == -1 {
			*dst = ival{v, p}
		}
		return true
	}
	parseFlag := func(dst *ival) bool { return parseMulti(dst, msFlag) }
	parseTime := func(dst *ival) bool {
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "missing time value.")
		}
		v := convtime(arg)
		if v == -1 {
			return fatal(argi(), KindBadValue, "invalid time value.")
		}
		if active && dst.v == -1 {
			*dst = ival{v, p}
		}
		return true
	}
	parseInt := func(dst *ival) bool {
		arg, ok := av.next()
		v, errstr := atoiErr(arg, ok)
		if errstr != "" {
			return fatal(argi(), KindBadValue, fmt.Sprintf("%s integer value %s.", kw, errstr))
		}
		if active && dst.v == -1 {
			*dst = ival{v, p}
		}
		return true
	}
	parseFilename := func(dst *sval) bool {
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "missing file name.")
		}
		if active && !dst.set {
			dst.set1(e.derelativise(l, arg), p)
		}
		return true
	}
	missing := func() bool { return fatal(argi(), KindBadValue, fmt.Sprintf("%s missing argument.", kw)) }
	parsePubkeyAlgos := func(dst *sval) bool {
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "Missing argument.")
		}
		if arg[0] != '-' && !e.c.alg.keyNamesValid(strings.TrimLeft(arg[:1], "+^")+arg[1:]) {
			return fatal(argi(), KindBadValue, fmt.Sprintf("Bad key types '%s'.", arg))
		}
		if active && !dst.set {
			dst.set1(arg, p)
		}
		return true
	}
	parseAlgoList := func(dst *sval, valid func(string) bool, text string) bool {
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		if arg[0] != '-' && !valid(strings.TrimLeft(arg[:1], "+^")+arg[1:]) {
			return fatal(argi(), KindBadValue, fmt.Sprintf(text, arg))
		}
		if !dst.set { // no activep check: global-only keywords
			dst.set1(arg, p)
		}
		return true
	}

	switch op {
	case sUsePAM:
		return parseFlag(&o.usePAM)
	case sPort:
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "missing port number.")
		}
		if len(o.ports) >= 256 {
			return fatal(argi(), KindBadValue, "too many ports.")
		}
		port := a2port(arg, e.c.opt.Services)
		o.ports = append(o.ports, ival{port, p})
		if port <= 0 {
			return fatal(argi(), KindBadValue, "Badly formatted port number.")
		}
	case sLoginGraceTime:
		return parseTime(&o.loginGraceTime)
	case sListenAddress:
		return e.listenAddress(o, l, av)
	case sAddressFamily:
		return parseMulti(&o.addressFamily, msAddrFamily)
	case sHostKeyFile:
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "missing file name.")
		}
		if active {
			o.hostKeyFiles.add(e.derelativise(l, arg), p)
		}
	case sHostKeyAgent:
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "missing socket name.")
		}
		if active && !o.hostKeyAgent.set {
			v := arg
			if arg != "SSH_AUTH_SOCK" {
				v = e.derelativise(l, arg)
			}
			o.hostKeyAgent.set1(v, p)
		}
	case sHostCertificate:
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "missing file name.")
		}
		if active {
			o.hostCertFiles.add(e.derelativise(l, arg), p)
		}
	case sPidFile:
		return parseFilename(&o.pidFile)
	case sModuliFile:
		return parseFilename(&o.moduliFile)
	case sPermitRootLogin:
		return parseMulti(&o.permitRootLogin, msRootLogin)
	case sIgnoreRhosts:
		return parseMulti(&o.ignoreRhosts, msIgnoreRhost)
	case sIgnoreUserKnownHosts:
		return parseFlag(&o.ignoreUserKnownHosts)
	case sHostbasedAuthentication:
		return parseFlag(&o.hostbasedAuthentication)
	case sHostbasedUsesNameFromPacketOnly:
		return parseFlag(&o.hostbasedUsesNameFromPacket)
	case sHostbasedAcceptedAlgorithms:
		return parsePubkeyAlgos(&o.hostbasedAcceptedAlgos)
	case sHostKeyAlgorithms:
		return parsePubkeyAlgos(&o.hostKeyAlgorithms)
	case sCASignatureAlgorithms:
		return parsePubkeyAlgos(&o.caSignAlgorithms)
	case sPubkeyAuthentication:
		return parseFlag(&o.pubkeyAuthentication)
	case sPubkeyAcceptedAlgorithms:
		return parsePubkeyAlgos(&o.pubkeyAcceptedAlgos)
	case sPubkeyAuthOptions:
		v := 0
		for {
			arg, ok := av.next()
			if !ok {
				break
			}
			switch {
			case strings.EqualFold(arg, "none"):
			case strings.EqualFold(arg, "touch-required"):
				v |= 1
			case strings.EqualFold(arg, "verify-required"):
				v |= 2
			default:
				e.errorLine(l, argi(), KindBadValue, fmt.Sprintf("unsupported %s option %s", kw, arg))
				return false
			}
		}
		if active && o.pubkeyAuthOptions.v == -1 {
			o.pubkeyAuthOptions = ival{v, p}
		}
	case sKerberosAuthentication:
		return parseFlag(&o.kerberosAuthentication)
	case sKerberosOrLocalPasswd:
		return parseFlag(&o.kerberosOrLocalPasswd)
	case sKerberosTicketCleanup:
		return parseFlag(&o.kerberosTicketCleanup)
	case sGssAuthentication:
		return parseFlag(&o.gssAuthentication)
	case sGssKeyEx:
		return parseFlag(&o.gssKeyEx)
	case sGssCleanupCreds:
		return parseFlag(&o.gssCleanupCreds)
	case sGssStrictAcceptor:
		return parseFlag(&o.gssStrictAcceptor)
	case sGssStoreRekey:
		return parseFlag(&o.gssStoreRekey)
	case sGssKexAlgorithms:
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "Missing argument.")
		}
		if !e.c.alg.gssKexValid(arg) {
			return fatal(argi(), KindBadValue, fmt.Sprintf("Bad GSSAPI KexAlgorithms '%s'.", arg))
		}
		if active && !o.gssKexAlgorithms.set {
			o.gssKexAlgorithms.set1(arg, p)
		}
	case sPasswordAuthentication:
		return parseFlag(&o.passwordAuthentication)
	case sKbdInteractiveAuthentication:
		return parseFlag(&o.kbdInteractiveAuthentication)
	case sPrintMotd:
		return parseFlag(&o.printMotd)
	case sPrintLastLog:
		return parseFlag(&o.printLastLog)
	case sX11Forwarding:
		return parseFlag(&o.x11Forwarding)
	case sX11DisplayOffset:
		return parseInt(&o.x11DisplayOffset)
	case sX11UseLocalhost:
		return parseFlag(&o.x11UseLocalhost)
	case sXAuthLocation:
		return parseFilename(&o.xauthLocation)
	case sPermitTTY:
		return parseFlag(&o.permitTTY)
	case sPermitUserRC:
		return parseFlag(&o.permitUserRC)
	case sStrictModes:
		return parseFlag(&o.strictModes)
	case sTCPKeepAlive:
		return parseFlag(&o.tcpKeepAlive)
	case sEmptyPasswd:
		return parseFlag(&o.permitEmptyPasswd)
	case sPermitUserEnvironment:
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, fmt.Sprintf("%s missing argument.", kw))
		}
		v, list := 1, ""
		switch arg {
		case "yes":
		case "no":
			v = 0
		default:
			list = arg
		}
		if active && o.permitUserEnv.v == -1 {
			o.permitUserEnv = ival{v, p}
			if list != "" {
				o.permitUserEnvAllowlist.set1(list, p)
			}
		}
	case sCompression:
		return parseMulti(&o.compression, msCompression)
	case sRekeyLimit:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		var v int64
		if arg != "default" {
			n, errno := scanScaled(arg)
			if errno != "" {
				return fatal(argi(), KindBadValue, fmt.Sprintf("Bad %s number '%s': %s", kw, arg, errno))
			}
			if n != 0 && n < 16 {
				return fatal(argi(), KindBadValue, fmt.Sprintf("%s too small", kw))
			}
			v = n
		}
		if active && o.rekeyLimit.v == -1 {
			o.rekeyLimit = i64val{v, p}
		}
		if av.left() != 0 {
			if next, _ := av.peek(); next == "none" {
				av.next()
				return true
			}
			return parseTime(&o.rekeyInterval)
		}
	case sGatewayPorts:
		return parseMulti(&o.gatewayPorts, msGatewayPort)
	case sUseDNS:
		return parseFlag(&o.useDNS)
	case sLogFacility:
		arg, _ := av.next()
		v := lookupState(logFacilities, arg, true)
		if v == -1 {
			if arg == "" && av.i == 0 {
				arg = "<NONE>"
			}
			return fatal(argi(), KindBadValue, fmt.Sprintf("unsupported log facility '%s'", arg))
		}
		if o.logFacility.v == -1 {
			o.logFacility = ival{v, p}
		}
	case sLogLevel:
		arg, _ := av.next()
		v := lookupState(logLevels, arg, true)
		if v == -1 {
			return fatal(argi(), KindBadValue, fmt.Sprintf("unsupported log level '%s'", arg))
		}
		if active && o.logLevel.v == -1 {
			o.logLevel = ival{v, p}
		}
	case sLogVerbose:
		found := len(o.logVerbose.v) == 0
		i := 0
		for {
			arg, ok := av.next()
			if !ok {
				break
			}
			if arg == "" {
				e.errorLine(l, argi(), KindBadValue, fmt.Sprintf("keyword %s empty argument", kw))
				return false
			}
			if strings.EqualFold(arg, "none") && (i > 0 || av.left() > 0) {
				e.errorLine(l, argi(), KindBadValue, fmt.Sprintf("keyword %s \"none\" argument must appear alone.", kw))
				return false
			}
			i++
			if !found || !active {
				continue
			}
			o.logVerbose.add(arg, p)
		}
	case sAllowTcpForwarding:
		return parseMulti(&o.allowTCPForwarding, msTCPFwd)
	case sAllowStreamLocalForwarding:
		return parseMulti(&o.allowStreamLocalForwarding, msTCPFwd)
	case sAllowAgentForwarding:
		return parseFlag(&o.allowAgentForwarding)
	case sDisableForwarding:
		return parseFlag(&o.disableForwarding)
	case sAllowUsers, sDenyUsers:
		dst := &o.allowUsers
		if op == sDenyUsers {
			dst = &o.denyUsers
		}
		for {
			arg, ok := av.next()
			if !ok {
				break
			}
			if arg == "" || !validUserPattern(arg) {
				return fatal(argi(), KindBadValue, fmt.Sprintf("invalid %s pattern: \"%s\"", kw, arg))
			}
			if active {
				dst.add(arg, p)
			}
		}
	case sAllowGroups, sDenyGroups:
		dst := &o.allowGroups
		if op == sDenyGroups {
			dst = &o.denyGroups
		}
		for {
			arg, ok := av.next()
			if !ok {
				break
			}
			if arg == "" {
				return fatal(argi(), KindBadValue, fmt.Sprintf("empty %s pattern", kw))
			}
			if active {
				dst.add(arg, p)
			}
		}
	case sCiphers:
		return parseAlgoList(&o.ciphers, e.c.alg.ciphersValid, "Bad SSH2 cipher spec '%s'.")
	case sMacs:
		return parseAlgoList(&o.macs, e.c.alg.macsValid, "Bad SSH2 mac spec '%s'.")
	case sKexAlgorithms:
		return parseAlgoList(&o.kexAlgorithms, e.c.alg.kexValid, "Bad SSH2 KexAlgorithms '%s'.")
	case sSubsystem:
		if len(o.subsystems) >= 256 {
			return fatal(-1, KindBadValue, "too many subsystems defined.")
		}
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		if !active {
			av.next()
			break
		}
		for _, s := range o.subsystems {
			if s.name == arg {
				return fatal(argi(), KindBadValue, fmt.Sprintf("Subsystem '%s' already defined.", arg))
			}
		}
		name := arg
		arg, ok = av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, "Missing subsystem command.")
		}
		args := arg
		for {
			a, ok := av.next()
			if !ok {
				break
			}
			args += " " + a
		}
		o.subsystems = append(o.subsystems, subsystem{name: name, args: args, pos: p})
	case sMaxStartups:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		vals := []int{o.maxStartupsBegin.v, o.maxStartupsRate.v, o.maxStartups.v}
		n := scanfInts(arg, vals)
		o.maxStartupsBegin = ival{vals[0], p}
		o.maxStartupsRate = ival{vals[1], p}
		o.maxStartups = ival{vals[2], p}
		switch {
		case n == 3:
			if vals[0] > vals[2] || vals[1] > 100 || vals[1] < 1 {
				return fatal(argi(), KindBadValue, fmt.Sprintf("Invalid %s spec.", kw))
			}
		case n != 1:
			return fatal(argi(), KindBadValue, fmt.Sprintf("Invalid %s spec.", kw))
		default:
			o.maxStartups = ival{vals[0], p}
		}
		if o.maxStartups.v <= 0 || o.maxStartupsBegin.v <= 0 {
			return fatal(argi(), KindBadValue, fmt.Sprintf("Invalid %s spec.", kw))
		}
	case sPerSourceNetBlockSize:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
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
			return fatal(argi(), KindBadValue, fmt.Sprintf("Invalid %s spec.", kw))
		}
		if active {
			o.perSourceMasklenIPv4 = ival{vals[0], p}
			o.perSourceMasklenIPv6 = ival{vals[1], p}
		}
	case sPerSourceMaxStartups:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		v := intMax
		if arg != "none" {
			var errstr string
			v, errstr = atoiErr(arg, true)
			if errstr != "" {
				return fatal(argi(), KindBadValue, fmt.Sprintf("%s integer value %s.", kw, errstr))
			}
		}
		if active {
			o.perSourceMaxStartups = ival{v, p}
		}
	case sMaxAuthTries:
		return parseInt(&o.maxAuthTries)
	case sMaxSessions:
		return parseInt(&o.maxSessions)
	case sBanner:
		return parseFilename(&o.banner)
	case sAuthorizedKeysFile:
		first := len(o.authorizedKeysFiles.v) == 0
		for {
			arg, ok := av.next()
			if !ok {
				break
			}
			if arg == "" {
				e.errorLine(l, argi(), KindBadValue, fmt.Sprintf("keyword %s empty argument", kw))
				return false
			}
			if active && first {
				o.authorizedKeysFiles.add(e.tildeExpand(l, arg), p)
			}
		}
	case sAuthorizedPrincipalsFile:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		if active && !o.authorizedPrincipalsFile.set {
			o.authorizedPrincipalsFile.set1(e.tildeExpand(l, arg), p)
		}
	case sClientAliveInterval:
		return parseTime(&o.clientAliveInterval)
	case sClientAliveCountMax:
		return parseInt(&o.clientAliveCountMax)
	case sAcceptEnv:
		for {
			arg, ok := av.next()
			if !ok {
				break
			}
			if arg == "" || strings.Contains(arg, "=") {
				return fatal(argi(), KindBadValue, "Invalid environment name.")
			}
			if active {
				o.acceptEnv.add(arg, p)
			}
		}
	case sSetEnv:
		first := len(o.setEnv.v) == 0
		for {
			arg, ok := av.next()
			if !ok {
				break
			}
			if arg == "" || !strings.Contains(arg, "=") {
				return fatal(argi(), KindBadValue, "Invalid environment.")
			}
			if !active || !first {
				continue
			}
			name, _, _ := strings.Cut(arg, "=")
			dup := false
			for _, x := range o.setEnv.v {
				dup = dup || strings.HasPrefix(x, name+"=")
			}
			if !dup {
				o.setEnv.add(arg, p)
			}
		}
	case sPermitTunnel:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		v := lookupState(tunModes, arg, false)
		if v == -1 {
			return fatal(argi(), KindBadValue, fmt.Sprintf("bad %s argument %s", kw, arg))
		}
		if active && o.permitTun.v == -1 {
			o.permitTun = ival{v, p}
		}
	case sInclude:
		return e.include(o, l, av, activep, incFlags, depth)
	case sMatch:
		return e.match(l, av, line, str, activep, incFlags)
	case sPermitListen, sPermitOpen:
		dst := &o.permittedOpens
		if op == sPermitListen {
			dst = &o.permittedListens
		}
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		first := len(dst.v) == 0
		if arg == "any" || arg == "none" {
			if active && first {
				*dst = lval{}
				dst.add(arg, p)
			}
			break
		}
		for ok && arg != "" {
			var entry, port string
			if op == sPermitListen && !strings.Contains(arg, ":") {
				entry, port = "*:"+arg, arg
			} else {
				entry = arg
				_, more, okh := hpdelim(arg)
				if !okh {
					return fatal(argi(), KindBadValue, fmt.Sprintf("%s missing host", kw))
				}
				if more == nil {
					return fatal(argi(), KindBadValue, fmt.Sprintf("%s bad port number", kw))
				}
				port = *more
			}
			if permitopenPort(port, e.c.opt.Services) < 0 {
				return fatal(argi(), KindBadValue, fmt.Sprintf("%s bad port number", kw))
			}
			if active && first {
				dst.add(entry, p)
			}
			arg, ok = av.next()
		}
	case sForceCommand:
		rest := string(cstr(line, str))
		if rest == "" {
			return missing()
		}
		v := strings.TrimLeft(rest, whitespace)
		if active && !o.admForcedCommand.set {
			o.admForcedCommand.set1(v, p)
		}
		av.consume()
	case sChrootDirectory:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		if active && !o.chrootDirectory.set {
			o.chrootDirectory.set1(arg, p)
		}
	case sTrustedUserCAKeys:
		return parseFilename(&o.trustedUserCAKeys)
	case sRevokedKeys:
		return parseFilename(&o.revokedKeysFile)
	case sSecurityKeyProvider:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		if active && !o.skProvider.set {
			v := arg
			if !strings.EqualFold(arg, "internal") {
				v = e.derelativise(l, arg)
			}
			o.skProvider.set1(v, p)
		}
	case sIPQoS:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		v := parseIPQoS(arg)
		if v == -1 {
			return fatal(argi(), KindBadValue, fmt.Sprintf("Bad %s value: %s", kw, arg))
		}
		v2 := v
		if arg, ok = av.next(); ok {
			if v2 = parseIPQoS(arg); v2 == -1 {
				return fatal(argi(), KindBadValue, fmt.Sprintf("Bad %s value: %s", kw, arg))
			}
		}
		if active {
			o.ipQoSInteractive = ival{v, p}
			o.ipQoSBulk = ival{v2, p}
		}
	case sVersionAddendum:
		rest := string(cstr(line, str))
		if rest == "" {
			return missing()
		}
		v := strings.TrimLeft(rest, whitespace)
		if strings.Contains(v, "\r") {
			return fatal(0, KindBadValue, fmt.Sprintf("Invalid %s argument", kw))
		}
		if active && !o.versionAddendum.set {
			if strings.EqualFold(v, "none") {
				v = ""
			}
			o.versionAddendum.set1(v, p)
		}
		av.consume()
	case sAuthorizedKeysCommand, sAuthorizedPrincipalsCommand:
		rest := string(cstr(line, str))
		v := strings.TrimLeft(rest, whitespace)
		if !strings.HasPrefix(v, "/") && !strings.EqualFold(v, "none") {
			return fatal(0, KindBadValue, fmt.Sprintf("%s must be an absolute path", kw))
		}
		// sshd tests authorized_keys_command for both keywords.
		if active && !o.authorizedKeysCommand.set {
			if op == sAuthorizedKeysCommand {
				o.authorizedKeysCommand.set1(v, p)
			} else {
				o.authorizedPrincipalsCommand.set1(v, p)
			}
		}
		av.consume()
	case sAuthorizedKeysCommandUser, sAuthorizedPrincipalsCommandUser:
		dst := &o.authorizedKeysCommandUser
		if op == sAuthorizedPrincipalsCommandUser {
			dst = &o.authorizedPrincipalsCmdUser
		}
		arg, ok := av.next()
		if !ok || arg == "" {
			return fatal(argi(), KindBadValue, fmt.Sprintf("missing %s argument.", kw))
		}
		if active && !dst.set {
			dst.set1(arg, p)
		}
	case sAuthenticationMethods:
		found := len(o.authMethods.v) == 0
		sawAny, parsed := false, false
		for {
			arg, ok := av.next()
			if !ok {
				break
			}
			switch {
			case arg == "any":
				if len(o.authMethods.v) > 0 {
					return fatal(argi(), KindBadValue, fmt.Sprintf("\"any\" must appear alone in %s", kw))
				}
				sawAny = true
			case sawAny:
				return fatal(argi(), KindBadValue, fmt.Sprintf("\"any\" must appear alone in %s", kw))
			case !authMethodsValid(arg):
				return fatal(argi(), KindBadValue, fmt.Sprintf("invalid %s method list.", kw))
			}
			parsed = true
			if !found || !active {
				continue
			}
			o.authMethods.add(arg, p)
		}
		if !parsed {
			return fatal(-1, KindBadValue, fmt.Sprintf("no %s specified", kw))
		}
	case sStreamLocalBindMask:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		v, n, _ := strtoll(arg, 8)
		if n == 0 || v < 0 || v > 0o777 {
			return fatal(argi(), KindBadValue, fmt.Sprintf("Invalid %s.", kw))
		}
		if active {
			o.streamLocalBindMask = ival{int(v), p}
		}
	case sStreamLocalBindUnlink:
		return parseFlag(&o.streamLocalBindUnlink)
	case sFingerprintHash:
		arg, ok := av.next()
		if !ok || arg == "" {
			return missing()
		}
		v := lookupState(digests, arg, true)
		if v == -1 {
			return fatal(argi(), KindBadValue, fmt.Sprintf("Invalid %s algorithm \"%s\".", kw, arg))
		}
		if active {
			o.fingerprintHash = ival{v, p}
		}
	case sExposeAuthInfo:
		return parseFlag(&o.exposeUserauthInfo)
	case sRDomain:
		// Linux builds of OpenSSH 9.2 have no routing domains.
		return fatal(-1, KindBadValue, "setting RDomain not supported on this platform.")
	case sRequiredRSASize:
		return parseInt(&o.requiredRSASize)
	case sChannelTimeout:
		first := len(o.channelTimeouts.v) == 0
		i := 0
		for {
			arg, ok := av.next()
			if !ok {
				break
			}
			// sshd never counts i up here, so "none" is refused only when
			// more arguments follow it.
			if strings.EqualFold(arg, "none") {
				if i > 0 || av.left() > 0 {
					e.errorLine(l, argi(), KindBadValue, fmt.Sprintf("keyword %s \"none\" argument must appear alone.", kw))
					return false
				}
			} else if !validChannelTimeout(arg) {
				return fatal(argi(), KindBadValue, fmt.Sprintf("invalid channel timeout %s", arg))
			}
			if !active || !first {
				continue
			}
			o.channelTimeouts.add(arg, p)
		}
	case sUnusedConnectionTimeout:
		if next, ok := av.peek(); ok && strings.EqualFold(next, "none") {
			av.next()
			if active {
				o.unusedConnectionTimeout = ival{0, p}
			}
			return true
		}
		return parseTime(&o.unusedConnectionTimeout)
	case sDebianBanner:
		return parseFlag(&o.debianBanner)
	case sDeprecated, sIgnore, sUnsupported:
		what := "Deprecated"
		if op == sUnsupported {
			what = "Unsupported"
		}
		// sshd logs sIgnore (Protocol) at DEBUG2 only; lint reports it all the same.
		e.add(Diag{Pos: l.at(-1), Kind: KindDeprecated, Severity: SevInfo,
			Msg:  fmt.Sprintf("%s is %s and ignored", kw, strings.ToLower(what)),
			SSHD: fmt.Sprintf("%s line %d: %s option %s", l.file, p.Line, what, kw)})
		av.consume()
	default:
		return fatal(-1, KindBadValue, fmt.Sprintf("Missing handler for opcode %s (%d)", kw, op))
	}
	return true
}

// validChannelTimeout ports parse_timeout: "type=interval" with a non-empty type.
func validChannelTimeout(s string) bool {
	i := strings.IndexByte(s, '=')
	return i > 0 && convtime(s[i+1:]) >= 0
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
// host part after '@' must be a valid address list.
func validUserPattern(p string) bool {
	i := strings.IndexByte(p, '@')
	if i < 0 {
		return true
	}
	return addrMatchList("", true, p[i+1:]) != -2
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

// listenAddress ports the sListenAddress case: parsing only; addresses are
// resolved after all Port lines (process_queued_listen_addrs).
func (e *evaluator) listenAddress(o *options, l lineCtx, av *argv) bool {
	arg, ok := av.next()
	if !ok || arg == "" {
		e.fatalLine(l, 0, KindBadValue, "missing address")
		return true
	}
	addr, port := arg, 0
	if c := strings.IndexByte(arg, ':'); !strings.Contains(arg, "[") && c >= 0 && strings.IndexByte(arg[c+1:], ':') >= 0 {
		// a bare IPv6 address
	} else {
		host, more, okh := hpdelim(arg)
		if !okh {
			e.fatalLine(l, 0, KindBadValue, "bad address:port usage")
			return true
		}
		addr = host
		if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") { // cleanhostname
			addr = host[1 : len(host)-1]
		}
		if more != nil {
			if port = a2port(*more, e.c.opt.Services); port <= 0 {
				e.fatalLine(l, 0, KindBadValue, "bad port number")
				return true
			}
		}
	}
	// An optional "rdomain NAME": the model refuses every routing domain
	// (sshd checks the name against the host's interfaces; see the known
	// mismatches of edge_test.go).
	if a, ok := av.next(); ok {
		if _, ok2 := av.next(); a != "rdomain" || !ok2 {
			e.fatalLine(l, av.i-1, KindBadValue, "bad ListenAddress syntax")
			return true
		}
		e.fatalLine(l, av.i-1, KindBadValue, "bad routing domain")
		return true
	}
	o.queuedListens = append(o.queuedListens, listenAddr{addr: addr, port: port, pos: l.pos})
	return true
}
