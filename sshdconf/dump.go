package sshdconf

import (
	"strconv"
	"strings"
)

// dumpLines is about how many lines dump prints for a stock configuration.
const dumpLines = 160

// Setting is one line of `sshd -T`: a lower-case keyword, its value as sshd
// prints it, and the line that set it (the zero Pos for a default).
type Setting struct {
	Keyword string // lower case, as sshd -T prints it
	Value   string // as sshd -T prints it
	Pos     Pos    // the line that set it; the zero Pos for a default
}

// String formats s as sshd -T prints it.
func (s Setting) String() string { return s.Keyword + " " + s.Value }

// dump ports dump_config: every setting, in sshd's order.
func dump(o *options) []Setting { return dumpOnly(o, "") }

// dumpOnly is dump, keeping only the lines of keyword only (every line when
// only is ""); it formats no other value, for Normalize.
func dumpOnly(o *options, only string) []Setting {
	var out []Setting
	if only == "" {
		n := dumpLines + len(o.ports) + len(o.subsystems)
		for _, l := range []*lval{&o.hostKeyFiles, &o.hostCertFiles, &o.allowUsers, &o.denyUsers, &o.allowGroups, &o.denyGroups, &o.acceptEnv, &o.setEnv} {
			n += len(l.v)
		}
		out = make([]Setting, 0, n)
	}
	want := func(kw string) bool { return only == "" || kw == only }
	put := func(kw, v string, p Pos) { out = append(out, Setting{kw, v, p}) }
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
			put(opName(op), fmtIntArg(op, f.v), f.pos)
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
		if len(l.v) == 0 && op != sAuthenticationMethods || !want(opName(op)) {
			return
		}
		v := strings.Join(l.v, " ")
		if len(l.v) == 0 {
			v = "any"
		}
		var p Pos
		if len(l.pos) > 0 {
			p = l.pos[0]
		}
		put(opName(op), v, p)
	}

	if want("port") {
		for _, p := range o.ports {
			put("port", strconv.Itoa(p.v), p.pos)
		}
	}
	fmtint(sAddressFamily, o.addressFamily)
	if want("listenaddress") {
		out = append(out, listenLines(o)...)
	}

	fmtint(sUsePAM, o.usePAM)
	num(sLoginGraceTime, o.loginGraceTime)
	num(sX11DisplayOffset, o.x11DisplayOffset)
	num(sMaxAuthTries, o.maxAuthTries)
	num(sMaxSessions, o.maxSessions)
	num(sClientAliveInterval, o.clientAliveInterval)
	num(sClientAliveCountMax, o.clientAliveCountMax)
	num(sRequiredRSASize, o.requiredRSASize)
	if want("streamlocalbindmask") {
		put("streamlocalbindmask", "0"+strconv.FormatInt(int64(o.streamLocalBindMask.v), 8), o.streamLocalBindMask.pos)
	}
	num(sUnusedConnectionTimeout, o.unusedConnectionTimeout)

	fmtint(sPermitRootLogin, o.permitRootLogin)
	fmtint(sIgnoreRhosts, o.ignoreRhosts)
	fmtint(sIgnoreUserKnownHosts, o.ignoreUserKnownHosts)
	fmtint(sHostbasedAuthentication, o.hostbasedAuthentication)
	fmtint(sHostbasedUsesNameFromPacketOnly, o.hostbasedUsesNameFromPacket)
	fmtint(sPubkeyAuthentication, o.pubkeyAuthentication)
	fmtint(sKerberosAuthentication, o.kerberosAuthentication)
	fmtint(sKerberosOrLocalPasswd, o.kerberosOrLocalPasswd)
	fmtint(sKerberosTicketCleanup, o.kerberosTicketCleanup)
	fmtint(sGssAuthentication, o.gssAuthentication)
	fmtint(sGssCleanupCreds, o.gssCleanupCreds)
	fmtint(sGssKeyEx, o.gssKeyEx)
	fmtint(sGssStrictAcceptor, o.gssStrictAcceptor)
	fmtint(sGssStoreRekey, o.gssStoreRekey)
	str(sGssKexAlgorithms, o.gssKexAlgorithms)
	fmtint(sPasswordAuthentication, o.passwordAuthentication)
	fmtint(sKbdInteractiveAuthentication, o.kbdInteractiveAuthentication)
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

	str(sPidFile, o.pidFile)
	str(sModuliFile, o.moduliFile)
	str(sXAuthLocation, o.xauthLocation)
	str(sCiphers, o.ciphers)
	str(sMacs, o.macs)
	str(sBanner, o.banner)
	str(sForceCommand, o.admForcedCommand)
	str(sChrootDirectory, o.chrootDirectory)
	str(sTrustedUserCAKeys, o.trustedUserCAKeys)
	str(sRevokedKeys, o.revokedKeysFile)
	str(sSecurityKeyProvider, o.skProvider)
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
	str(sHostbasedAcceptedAlgorithms, o.hostbasedAcceptedAlgos)
	str(sHostKeyAlgorithms, o.hostKeyAlgorithms)
	str(sPubkeyAcceptedAlgorithms, o.pubkeyAcceptedAlgos)

	if want("loglevel") {
		put("loglevel", stateName(logLevels, o.logLevel.v), o.logLevel.pos)
	}
	if want("syslogfacility") {
		put("syslogfacility", stateName(logFacilities, o.logFacility.v), o.logFacility.pos)
	}

	oneline(sAuthorizedKeysFile, o.authorizedKeysFiles)
	strarray(sHostKeyFile, o.hostKeyFiles)
	strarray(sHostCertificate, o.hostCertFiles)
	strarray(sAllowUsers, o.allowUsers)
	strarray(sDenyUsers, o.denyUsers)
	strarray(sAllowGroups, o.allowGroups)
	strarray(sDenyGroups, o.denyGroups)
	strarray(sAcceptEnv, o.acceptEnv)
	strarray(sSetEnv, o.setEnv)
	oneline(sAuthenticationMethods, o.authMethods)
	oneline(sLogVerbose, o.logVerbose)
	oneline(sChannelTimeout, o.channelTimeouts)

	if want("subsystem") {
		for _, s := range o.subsystems {
			put("subsystem", s.name+" "+s.args, s.pos)
		}
	}
	if want("maxstartups") {
		put("maxstartups", strconv.Itoa(o.maxStartupsBegin.v)+":"+strconv.Itoa(o.maxStartupsRate.v)+":"+strconv.Itoa(o.maxStartups.v), o.maxStartups.pos)
	}
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
		put("ipqos", iptos2str(o.ipQoSInteractive.v)+" "+iptos2str(o.ipQoSBulk.v), o.ipQoSInteractive.pos)
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
	if want("pubkeyauthoptions") {
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
		put("pubkeyauthoptions", strings.Join(pk, " "), o.pubkeyAuthOptions.pos)
	}
	return out
}

// fmtIntArg ports fmt_intarg.
func fmtIntArg(op opcode, v int) string {
	if v == -1 {
		return "unset"
	}
	switch op {
	case sAddressFamily:
		return stateName(msAddrFamily, v)
	case sPermitRootLogin:
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
