package sshdconf

import (
	"strconv"
	"strings"
)

// dumpLines is about how many lines dump prints for a stock configuration.
const dumpLines = 160

// Setting is one line of `sshd -T`: the keyword, its value as sshd prints
// it, and the line that set it (the zero Pos for a default).
type Setting struct {
	// Keyword is the keyword in lower case, by its current name
	// ("pubkeyacceptedalgorithms" also where OpenSSH 8.4 prints
	// "pubkeyacceptedkeytypes"), the same for every release.
	Keyword string
	Value   string // as sshd -T prints it
	Pos     Pos    // the line that set it; the zero Pos for a default
	// Name is the keyword as the release's sshd -T prints it: lower case
	// before 10.4, mixed case after ("PubkeyAuthentication"), and the old
	// names older releases print. "" means Keyword.
	Name string
}

// String formats s as sshd -T prints it.
func (s Setting) String() string {
	if s.Name != "" {
		return s.Name + " " + s.Value
	}
	return s.Keyword + " " + s.Value
}

// dump ports dump_config of release r: every setting, in r's order.
func dump(o *options, r *Release) []Setting { return dumpOnly(o, r, "") }

// mixedCase is whether r's sshd -T prints keywords as its keyword table
// spells them ("Port 22"; OpenSSH 10.4, commit f6acdce69) rather than in
// lower case.
func mixedCase(r *Release) bool { return r.AtLeast("10.4") }

// printedSpelling is the spelling of the keywords whose mixed-case name
// in sshd's table differs from the manual's (Keyword.Name).
var printedSpelling = map[string]string{"macs": "Macs"}

// dumpOnly is dump, keeping only the lines of keyword only (every line when
// only is ""); it formats no other value, for Normalize.
func dumpOnly(o *options, r *Release, only string) []Setting {
	var out []Setting
	if only == "" {
		n := dumpLines + len(o.ports) + len(o.subsystems)
		for _, l := range []*lval{&o.hostKeyFiles, &o.hostCertFiles, &o.allowUsers, &o.denyUsers, &o.allowGroups, &o.denyGroups, &o.acceptEnv, &o.setEnv} {
			n += len(l.v)
		}
		out = make([]Setting, 0, n)
	}
	mixed := mixedCase(r)
	want := func(kw string) bool { return only == "" || kw == only }
	// name is how r prints keyword kw (lower case, current name), or the
	// old name old when r is older than since.
	name := func(kw string) string {
		if !mixed {
			return ""
		}
		if n, ok := printedSpelling[kw]; ok {
			return n
		}
		if k := Lookup(kw); k != nil {
			return k.Name
		}
		return ""
	}
	put := func(kw, v string, p Pos) { out = append(out, Setting{Keyword: kw, Value: v, Pos: p, Name: name(kw)}) }
	putAs := func(kw, printed, v string, p Pos) {
		out = append(out, Setting{Keyword: kw, Value: v, Pos: p, Name: printed})
	}
	num := func(op opcode, f ival) {
		if !want(opName(op)) {
			return
		}
		if op == sUnusedConnectionTimeout && f.v == 0 {
			put(opName(op), "none", f.pos)
			return
		}
		put(opName(op), strconv.Itoa(f.v), f.pos)
	}
	fmtint := func(op opcode, f ival) {
		if want(opName(op)) {
			put(opName(op), fmtIntArg(op, f.v, r), f.pos)
		}
	}
	str := func(op opcode, f sval) {
		if !want(opName(op)) {
			return
		}
		v := "none"
		if f.set {
			v = f.v
		}
		put(opName(op), v, f.pos)
	}
	strarray := func(op opcode, l lval) {
		if !want(opName(op)) {
			return
		}
		for i, v := range l.v {
			put(opName(op), v, l.pos[i])
		}
	}
	oneline := func(op opcode, l lval) {
		none := ""
		switch {
		case op == sAuthenticationMethods:
			none = "any"
		case op == sChannelTimeout && r.AtLeast("9.3"):
			none = "none" // d1c1b3272
		}
		if len(l.v) == 0 && none == "" || !want(opName(op)) {
			return
		}
		v := strings.Join(l.v, " ")
		if len(l.v) == 0 {
			v = none
		}
		var p Pos
		if len(l.pos) > 0 {
			p = l.pos[0]
		}
		put(opName(op), v, p)
	}
	// renamed prints the algorithm keywords 8.5 renamed by their old
	// names before it.
	renamed := func(op opcode, old string, f sval) {
		if !r.Before("8.5") {
			str(op, f)
			return
		}
		if want(opName(op)) {
			putAs(opName(op), old, f.v, f.pos)
		}
	}
	gss := r.gssapi

	if want("port") {
		for _, p := range o.ports {
			put("port", strconv.Itoa(p.v), p.pos)
		}
	}
	fmtint(sAddressFamily, o.addressFamily)
	if want("listenaddress") {
		for _, s := range listenLines(o) {
			s.Name = name("listenaddress")
			out = append(out, s)
		}
	}

	fmtint(sUsePAM, o.usePAM)
	if r.AtLeast("9.8") {
		str(sPAMServiceName, o.pamServiceName)
	}
	num(sLoginGraceTime, o.loginGraceTime)
	num(sX11DisplayOffset, o.x11DisplayOffset)
	num(sMaxAuthTries, o.maxAuthTries)
	num(sMaxSessions, o.maxSessions)
	num(sClientAliveInterval, o.clientAliveInterval)
	num(sClientAliveCountMax, o.clientAliveCountMax)
	if r.AtLeast("9.1") {
		num(sRequiredRSASize, o.requiredRSASize)
	}
	if want("streamlocalbindmask") {
		put("streamlocalbindmask", "0"+strconv.FormatInt(int64(o.streamLocalBindMask.v), 8), o.streamLocalBindMask.pos)
	}
	if r.AtLeast("9.2") {
		num(sUnusedConnectionTimeout, o.unusedConnectionTimeout)
	}

	fmtint(sPermitRootLogin, o.permitRootLogin)
	fmtint(sIgnoreRhosts, o.ignoreRhosts)
	fmtint(sIgnoreUserKnownHosts, o.ignoreUserKnownHosts)
	fmtint(sHostbasedAuthentication, o.hostbasedAuthentication)
	fmtint(sHostbasedUsesNameFromPacketOnly, o.hostbasedUsesNameFromPacket)
	fmtint(sPubkeyAuthentication, o.pubkeyAuthentication)
	if gss {
		fmtint(sKerberosAuthentication, o.kerberosAuthentication)
		fmtint(sKerberosOrLocalPasswd, o.kerberosOrLocalPasswd)
		fmtint(sKerberosTicketCleanup, o.kerberosTicketCleanup)
		fmtint(sGssAuthentication, o.gssAuthentication)
		fmtint(sGssCleanupCreds, o.gssCleanupCreds)
		if r.AtLeast("10.3") {
			fmtint(sGSSAPIDelegateCredentials, o.gssDelegateCreds)
		}
		if r.debian {
			fmtint(sGssKeyEx, o.gssKeyEx)
		}
		if r.debian || r.AtLeast("10.0") {
			fmtint(sGssStrictAcceptor, o.gssStrictAcceptor)
		}
		if r.debian {
			fmtint(sGssStoreRekey, o.gssStoreRekey)
			str(sGssKexAlgorithms, o.gssKexAlgorithms)
		}
	}
	fmtint(sPasswordAuthentication, o.passwordAuthentication)
	fmtint(sKbdInteractiveAuthentication, o.kbdInteractiveAuthentication)
	if r.Before("8.7") && want("challengeresponseauthentication") {
		// A separate option before 8.7 (global only).
		putAs("challengeresponseauthentication", "", fmtIntArg(sKbdInteractiveAuthentication, o.challengeResponse.v, r), o.challengeResponse.pos)
	}
	fmtint(sPrintMotd, o.printMotd)
	fmtint(sPrintLastLog, o.printLastLog)
	fmtint(sX11Forwarding, o.x11Forwarding)
	fmtint(sX11UseLocalhost, o.x11UseLocalhost)
	fmtint(sPermitTTY, o.permitTTY)
	fmtint(sPermitUserRC, o.permitUserRC)
	fmtint(sStrictModes, o.strictModes)
	fmtint(sTCPKeepAlive, o.tcpKeepAlive)
	fmtint(sEmptyPasswd, o.permitEmptyPasswd)
	fmtint(sCompression, o.compression)
	fmtint(sGatewayPorts, o.gatewayPorts)
	fmtint(sUseDNS, o.useDNS)
	fmtint(sAllowTcpForwarding, o.allowTCPForwarding)
	fmtint(sAllowAgentForwarding, o.allowAgentForwarding)
	fmtint(sDisableForwarding, o.disableForwarding)
	fmtint(sAllowStreamLocalForwarding, o.allowStreamLocalForwarding)
	fmtint(sStreamLocalBindUnlink, o.streamLocalBindUnlink)
	fmtint(sFingerprintHash, o.fingerprintHash)
	fmtint(sExposeAuthInfo, o.exposeUserauthInfo)
	if r.AtLeast("10.6") {
		fmtint(sWarnWeakCrypto, o.warnWeakCrypto)
	}
	if r.AtLeast("9.9") {
		fmtint(sRefuseConnection, o.refuseConnection)
	}
	if r.debian && r.AtLeast("10.0") {
		fmtint(sDebianBanner, o.debianBanner)
	}

	str(sPidFile, o.pidFile)
	if r.AtLeast("8.5") {
		str(sModuliFile, o.moduliFile)
	}
	str(sXAuthLocation, o.xauthLocation)
	str(sCiphers, o.ciphers)
	str(sMacs, o.macs)
	str(sBanner, o.banner)
	str(sForceCommand, o.admForcedCommand)
	str(sChrootDirectory, o.chrootDirectory)
	str(sTrustedUserCAKeys, o.trustedUserCAKeys)
	if r.Before("10.3") {
		str(sRevokedKeys, o.revokedKeysFile)
	}
	if r.AtLeast("8.2") {
		str(sSecurityKeyProvider, o.skProvider)
	}
	str(sAuthorizedPrincipalsFile, o.authorizedPrincipalsFile)
	va := o.versionAddendum
	if va.v == "" {
		va.set = false
	}
	str(sVersionAddendum, va)
	str(sAuthorizedKeysCommand, o.authorizedKeysCommand)
	str(sAuthorizedKeysCommandUser, o.authorizedKeysCommandUser)
	str(sAuthorizedPrincipalsCommand, o.authorizedPrincipalsCommand)
	str(sAuthorizedPrincipalsCommandUser, o.authorizedPrincipalsCmdUser)
	str(sHostKeyAgent, o.hostKeyAgent)
	str(sKexAlgorithms, o.kexAlgorithms)
	str(sCASignatureAlgorithms, o.caSignAlgorithms)
	renamed(sHostbasedAcceptedAlgorithms, "hostbasedacceptedkeytypes", o.hostbasedAcceptedAlgos)
	str(sHostKeyAlgorithms, o.hostKeyAlgorithms)
	renamed(sPubkeyAcceptedAlgorithms, "pubkeyacceptedkeytypes", o.pubkeyAcceptedAlgos)
	if r.Before("8.4") {
		// Printed on every platform until 8.4 made it depend on routing
		// domain support, which Linux lacks.
		str(sRDomain, o.routingDomain)
	}
	if r.AtLeast("9.8") {
		str(sSshdSessionPath, o.sshdSessionPath)
	}
	if r.AtLeast("10.0") {
		str(sSshdAuthPath, o.sshdAuthPath)
	}
	if r.AtLeast("9.8") {
		str(sPerSourcePenaltyExemptList, o.perSourcePenaltyExempt)
	}
	if r.AtLeast("10.6") {
		str(sAgentSocketPath, o.agentSocketPath)
	}

	if want("loglevel") {
		put("loglevel", logLevelName(o.logLevel.v, r), o.logLevel.pos)
	}
	if want("syslogfacility") {
		put("syslogfacility", stateName(logFacilities, o.logFacility.v), o.logFacility.pos)
	}

	oneline(sAuthorizedKeysFile, o.authorizedKeysFiles)
	if r.AtLeast("10.3") {
		// A list from 10.3, printed on one line, and not at all when empty.
		oneline(sRevokedKeys, o.revokedKeysFiles)
	}
	strarray(sHostKeyFile, o.hostKeyFiles)
	strarray(sHostCertificate, o.hostCertFiles)
	strarray(sAllowUsers, o.allowUsers)
	strarray(sDenyUsers, o.denyUsers)
	strarray(sAllowGroups, o.allowGroups)
	strarray(sDenyGroups, o.denyGroups)
	strarray(sAcceptEnv, o.acceptEnv)
	strarray(sSetEnv, o.setEnv)
	oneline(sAuthenticationMethods, o.authMethods)
	if r.AtLeast("8.5") {
		oneline(sLogVerbose, o.logVerbose)
	}
	if r.AtLeast("9.2") {
		oneline(sChannelTimeout, o.channelTimeouts)
	}

	if want("subsystem") {
		for _, s := range o.subsystems {
			put("subsystem", s.name+" "+s.args, s.pos)
		}
	}
	if want("maxstartups") {
		put("maxstartups", strconv.Itoa(o.maxStartupsBegin.v)+":"+strconv.Itoa(o.maxStartupsRate.v)+":"+strconv.Itoa(o.maxStartups.v), o.maxStartups.pos)
	}
	if r.AtLeast("8.5") {
		if want("persourcemaxstartups") {
			v := "none"
			if o.perSourceMaxStartups.v != intMax {
				v = strconv.Itoa(o.perSourceMaxStartups.v)
			}
			put("persourcemaxstartups", v, o.perSourceMaxStartups.pos)
		}
		if want("persourcenetblocksize") {
			put("persourcenetblocksize", strconv.Itoa(o.perSourceMasklenIPv4.v)+":"+strconv.Itoa(o.perSourceMasklenIPv6.v), o.perSourceMasklenIPv4.pos)
		}
	}
	if want("permittunnel") {
		tun := "none"
		for _, t := range tunModes {
			if t.val == o.permitTun.v {
				tun = t.key
				break
			}
		}
		put("permittunnel", tun, o.permitTun.pos)
	}
	if want("ipqos") {
		put("ipqos", iptos2str(o.ipQoSInteractive.v, r)+" "+iptos2str(o.ipQoSBulk.v, r), o.ipQoSInteractive.pos)
	}
	if want("rekeylimit") {
		p := o.rekeyLimit.pos
		if p.IsDefault() {
			p = o.rekeyInterval.pos
		}
		put("rekeylimit", strconv.FormatUint(uint64(o.rekeyLimit.v), 10)+" "+strconv.Itoa(o.rekeyInterval.v), p)
	}
	for _, pl := range [...]struct {
		kw string
		l  lval
	}{{"permitopen", o.permittedOpens}, {"permitlisten", o.permittedListens}} {
		if !want(pl.kw) {
			continue
		}
		if len(pl.l.v) == 0 {
			put(pl.kw, "any", Pos{})
		} else {
			put(pl.kw, strings.Join(pl.l.v, " "), pl.l.pos[0])
		}
	}
	if !o.permitUserEnvAllowlist.set {
		fmtint(sPermitUserEnvironment, o.permitUserEnv)
	} else if want("permituserenvironment") {
		put("permituserenvironment", o.permitUserEnvAllowlist.v, o.permitUserEnvAllowlist.pos)
	}
	if r.AtLeast("8.2") && want("pubkeyauthoptions") {
		var pk []string
		if o.pubkeyAuthOptions.v == 0 {
			pk = append(pk, "none")
		}
		if o.pubkeyAuthOptions.v&1 != 0 {
			pk = append(pk, "touch-required")
		}
		if o.pubkeyAuthOptions.v&2 != 0 {
			pk = append(pk, "verify-required")
		}
		if o.maxPKOK.v != -1 {
			pk = append(pk, "max-pk-ok:"+strconv.Itoa(o.maxPKOK.v))
		}
		put("pubkeyauthoptions", strings.Join(pk, " "), o.pubkeyAuthOptions.pos)
	}
	if r.AtLeast("9.8") && want("persourcepenalties") {
		put("persourcepenalties", o.penalties.String(r), o.penalties.pos)
	}
	return out
}

// fmtIntArg ports fmt_intarg of release r.
func fmtIntArg(op opcode, v int, r *Release) string {
	if v == -1 {
		return "unset"
	}
	if r.AtLeast("10.6") && (op == sTCPKeepAlive || op == sWarnWeakCrypto) {
		// Debian forky's 10.6p1 prints these two flags as true and
		// false (measured; it reads yes, no, true and false).
		switch v {
		case 0:
			return "false"
		case 1:
			return "true"
		}
	}
	switch op {
	case sAddressFamily:
		return stateName(msAddrFamily, v)
	case sPermitRootLogin:
		if v == 3 && r.AtLeast("10.1") {
			return "prohibit-password" // its current name, from 10.1 (6d192645a)
		}
		return stateName(msRootLogin, v)
	case sGatewayPorts:
		return stateName(msGatewayPort, v)
	case sCompression:
		return stateName(msCompression, v)
	case sAllowTcpForwarding, sAllowStreamLocalForwarding:
		return stateName(msTCPFwd, v)
	case sIgnoreRhosts:
		return stateName(msIgnoreRhost, v)
	case sFingerprintHash:
		return stateName(digests, v)
	}
	switch v {
	case 0:
		return "no"
	case 1:
		return "yes"
	}
	return "UNKNOWN"
}

// logLevelName is the name r's sshd -T prints for a LogLevel: Debian's
// log.c lists SILENT first (so QUIET prints as SILENT), upstream's has only
// QUIET (measured: 9.6p1 and 10.5p1 print QUIET, Debian's 9.2 SILENT).
func logLevelName(v int, r *Release) string {
	if v == 0 && !r.Debian() {
		return "QUIET"
	}
	return stateName(logLevels, v)
}
