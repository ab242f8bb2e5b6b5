package sshdconf

// options mirrors ServerOptions of servconf.h. An int field holds -1 while
// unset; every field remembers the position of the line that set it, for
// `effective --explain`.
type options struct {
	usePAM                       ival
	ports                        []ival
	addressFamily                ival
	queuedListens                []listenAddr
	listenIfs                    Interfaces // the zones of queuedListens name them
	hostKeyFiles                 lval
	hostCertFiles                lval
	hostKeyAgent                 sval
	pidFile                      sval
	moduliFile                   sval
	loginGraceTime               ival
	permitRootLogin              ival
	logFacility                  ival
	logLevel                     ival
	logVerbose                   lval
	kerberosAuthentication       ival
	kerberosOrLocalPasswd        ival
	kerberosTicketCleanup        ival
	gssAuthentication            ival
	gssCleanupCreds              ival
	gssStrictAcceptor            ival
	gssKeyEx                     ival
	gssStoreRekey                ival
	gssKexAlgorithms             sval
	passwordAuthentication       ival
	kbdInteractiveAuthentication ival
	challengeResponse            ival // before 8.7 (-1: unset, on by default)
	printMotd                    ival
	printLastLog                 ival
	ignoreRhosts                 ival
	ignoreUserKnownHosts         ival
	x11Forwarding                ival
	x11DisplayOffset             ival
	x11UseLocalhost              ival
	xauthLocation                sval
	permitTTY                    ival
	permitUserRC                 ival
	strictModes                  ival
	permitEmptyPasswd            ival
	tcpKeepAlive                 ival
	permitUserEnv                ival
	permitUserEnvAllowlist       sval
	allowTCPForwarding           ival
	allowStreamLocalForwarding   ival
	allowAgentForwarding         ival
	disableForwarding            ival
	compression                  ival
	rekeyLimit                   i64val
	rekeyInterval                ival
	allowUsers, denyUsers        lval
	allowGroups, denyGroups      lval
	ciphers, macs, kexAlgorithms sval
	gatewayPorts                 ival
	pubkeyAuthentication         ival
	pubkeyAcceptedAlgos          sval
	pubkeyAuthOptions            ival
	hostbasedAuthentication      ival
	hostbasedUsesNameFromPacket  ival
	hostbasedAcceptedAlgos       sval
	hostKeyAlgorithms            sval
	caSignAlgorithms             sval
	subsystems                   []subsystem
	maxStartupsBegin             ival
	maxStartupsRate              ival
	maxStartups                  ival
	perSourceMaxStartups         ival
	perSourceMasklenIPv4         ival
	perSourceMasklenIPv6         ival
	maxAuthTries                 ival
	maxSessions                  ival
	banner                       sval
	useDNS                       ival
	clientAliveInterval          ival
	clientAliveCountMax          ival
	authorizedKeysFiles          lval
	acceptEnv                    lval
	setEnv                       lval
	permitTun                    ival
	permittedOpens               lval
	permittedListens             lval
	admForcedCommand             sval
	chrootDirectory              sval
	revokedKeysFile              sval
	trustedUserCAKeys            sval
	authorizedPrincipalsFile     sval
	authorizedPrincipalsCommand  sval
	authorizedPrincipalsCmdUser  sval
	authorizedKeysCommand        sval
	authorizedKeysCommandUser    sval
	versionAddendum              sval
	authMethods                  lval
	ipQoSInteractive             ival
	ipQoSBulk                    ival
	streamLocalBindMask          ival
	streamLocalBindUnlink        ival
	fingerprintHash              ival
	exposeUserauthInfo           ival
	routingDomain                sval
	skProvider                   sval
	requiredRSASize              ival
	channelTimeouts              lval
	unusedConnectionTimeout      ival
	debianBanner                 ival

	// Options of releases other than 9.2.
	revokedKeysFiles       lval      // RevokedKeys from 10.3: the files of the first line
	maxPKOK                ival      // PubkeyAuthOptions max-pk-ok:N (10.6)
	pamServiceName         sval      // 9.8
	perSourcePenaltyExempt sval      // 9.8
	penalties              penalties // PerSourcePenalties, 9.8
	sshdSessionPath        sval      // 9.8
	sshdAuthPath           sval      // 10.0
	refuseConnection       ival      // 9.9
	gssDelegateCreds       ival      // GSSAPIDelegateCredentials, 10.3
	agentSocketPath        sval      // 10.6
	warnWeakCrypto         ival      // 10.6
}

// penalties mirrors struct per_source_penalty (PerSourcePenalties): every
// number -1 while unset. Durations are seconds; 10.3 made them doubles.
type penalties struct {
	enabled                                                       int
	crash, authfail, noauth, invaliduser, grace, refuse, max, min float64
	sources4, sources6, overflow, overflow6                       int
	pos                                                           Pos
}

// Overflow modes of PerSourcePenalties.
const (
	overflowDenyAll    = 1
	overflowPermissive = 2
)

type ival struct {
	v   int
	pos Pos
}

type i64val struct {
	v   int64
	pos Pos
}

type sval struct {
	v   string
	set bool
	pos Pos
}

type lval struct {
	v   []string
	pos []Pos
}

type listenAddr struct {
	addr string
	port int
	pos  Pos
}

type subsystem struct {
	name, args string
	pos        Pos
}

func (l *lval) add(s string, p Pos) {
	if n := len(l.v); n == cap(l.v) {
		// Double: append grows a long slice by a quarter, which makes
		// 100,000 AcceptEnv values allocate five times their size.
		c := max(4, 2*n)
		l.v = append(make([]string, 0, c), l.v...)
		l.pos = append(make([]Pos, 0, c), l.pos...)
	}
	l.v = append(l.v, s)
	l.pos = append(l.pos, p)
}

func (s *sval) set1(v string, p Pos) { *s = sval{v: v, set: true, pos: p} }

// newOptions ports initialize_server_options: every field unset.
func newOptions() *options {
	o := new(options)
	*o = blankOptions
	return o
}

// blankOptions is what initialize_server_options leaves: every number
// unset (-1). newOptions copies it rather than setting the fields again.
var blankOptions = func() options {
	var o options
	for _, p := range o.ints() {
		*p = ival{v: -1}
	}
	o.rekeyLimit = i64val{v: -1}
	o.penalties = penalties{enabled: -1, crash: -1, authfail: -1, noauth: -1, invaliduser: -1, grace: -1,
		refuse: -1, max: -1, min: -1, sources4: -1, sources6: -1, overflow: -1, overflow6: -1}
	return o
}()

func (o *options) ints() []*ival {
	return []*ival{
		&o.usePAM, &o.addressFamily, &o.loginGraceTime, &o.permitRootLogin, &o.logFacility, &o.logLevel,
		&o.kerberosAuthentication, &o.kerberosOrLocalPasswd, &o.kerberosTicketCleanup,
		&o.gssAuthentication, &o.gssCleanupCreds, &o.gssStrictAcceptor, &o.gssKeyEx, &o.gssStoreRekey,
		&o.passwordAuthentication, &o.kbdInteractiveAuthentication, &o.challengeResponse, &o.printMotd, &o.printLastLog,
		&o.ignoreRhosts, &o.ignoreUserKnownHosts, &o.x11Forwarding, &o.x11DisplayOffset, &o.x11UseLocalhost,
		&o.permitTTY, &o.permitUserRC, &o.strictModes, &o.permitEmptyPasswd, &o.tcpKeepAlive, &o.permitUserEnv,
		&o.allowTCPForwarding, &o.allowStreamLocalForwarding, &o.allowAgentForwarding, &o.disableForwarding,
		&o.compression, &o.rekeyInterval, &o.gatewayPorts, &o.pubkeyAuthentication, &o.pubkeyAuthOptions,
		&o.hostbasedAuthentication, &o.hostbasedUsesNameFromPacket, &o.maxStartupsBegin, &o.maxStartupsRate,
		&o.maxStartups, &o.perSourceMaxStartups, &o.perSourceMasklenIPv4, &o.perSourceMasklenIPv6,
		&o.maxAuthTries, &o.maxSessions, &o.useDNS, &o.clientAliveInterval, &o.clientAliveCountMax,
		&o.permitTun, &o.ipQoSInteractive, &o.ipQoSBulk, &o.streamLocalBindMask, &o.streamLocalBindUnlink,
		&o.fingerprintHash, &o.exposeUserauthInfo, &o.requiredRSASize, &o.unusedConnectionTimeout, &o.debianBanner,
		&o.maxPKOK, &o.refuseConnection, &o.gssDelegateCreds, &o.warnWeakCrypto,
	}
}

// clone returns a copy of o that can be changed without touching o. Lists
// are replaced, never appended to in place, once options leave evaluation.
func (o *options) clone() *options {
	c := *o
	return &c
}

// copySet ports copy_set_server_options(dst, src, preauth=0): what a
// matching Match block set overrides the global value.
func copySet(dst, src *options, r *Release) string {
	for _, f := range []struct{ d, s *ival }{
		{&dst.passwordAuthentication, &src.passwordAuthentication},
		{&dst.gssAuthentication, &src.gssAuthentication},
		{&dst.pubkeyAuthentication, &src.pubkeyAuthentication},
		{&dst.pubkeyAuthOptions, &src.pubkeyAuthOptions},
		{&dst.kerberosAuthentication, &src.kerberosAuthentication},
		{&dst.hostbasedAuthentication, &src.hostbasedAuthentication},
		{&dst.hostbasedUsesNameFromPacket, &src.hostbasedUsesNameFromPacket},
		{&dst.kbdInteractiveAuthentication, &src.kbdInteractiveAuthentication},
		{&dst.permitRootLogin, &src.permitRootLogin},
		{&dst.permitEmptyPasswd, &src.permitEmptyPasswd},
		{&dst.ignoreRhosts, &src.ignoreRhosts},
		{&dst.allowTCPForwarding, &src.allowTCPForwarding},
		{&dst.allowStreamLocalForwarding, &src.allowStreamLocalForwarding},
		{&dst.allowAgentForwarding, &src.allowAgentForwarding},
		{&dst.disableForwarding, &src.disableForwarding},
		{&dst.exposeUserauthInfo, &src.exposeUserauthInfo},
		{&dst.permitTun, &src.permitTun},
		{&dst.gatewayPorts, &src.gatewayPorts},
		{&dst.streamLocalBindUnlink, &src.streamLocalBindUnlink},
		{&dst.x11DisplayOffset, &src.x11DisplayOffset},
		{&dst.x11Forwarding, &src.x11Forwarding},
		{&dst.x11UseLocalhost, &src.x11UseLocalhost},
		{&dst.permitTTY, &src.permitTTY},
		{&dst.permitUserRC, &src.permitUserRC},
		{&dst.maxSessions, &src.maxSessions},
		{&dst.maxAuthTries, &src.maxAuthTries},
		{&dst.clientAliveCountMax, &src.clientAliveCountMax},
		{&dst.clientAliveInterval, &src.clientAliveInterval},
		{&dst.ipQoSInteractive, &src.ipQoSInteractive},
		{&dst.ipQoSBulk, &src.ipQoSBulk},
		{&dst.rekeyInterval, &src.rekeyInterval},
		{&dst.logLevel, &src.logLevel},
		{&dst.requiredRSASize, &src.requiredRSASize},
		{&dst.unusedConnectionTimeout, &src.unusedConnectionTimeout},
		{&dst.streamLocalBindMask, &src.streamLocalBindMask},
		{&dst.refuseConnection, &src.refuseConnection},
	} {
		if f.s.v != -1 {
			*f.d = *f.s
		}
	}
	if src.pubkeyAuthOptions.v != -1 {
		// max-pk-ok goes with the options of its line, set or not
		// (measured on 10.6).
		dst.maxPKOK = src.maxPKOK
	}
	if src.rekeyLimit.v != -1 {
		dst.rekeyLimit = src.rekeyLimit
	}
	for _, f := range []struct{ d, s *sval }{
		{&dst.banner, &src.banner},
		{&dst.trustedUserCAKeys, &src.trustedUserCAKeys},
		{&dst.revokedKeysFile, &src.revokedKeysFile},
		{&dst.authorizedKeysCommand, &src.authorizedKeysCommand},
		{&dst.authorizedKeysCommandUser, &src.authorizedKeysCommandUser},
		{&dst.authorizedPrincipalsFile, &src.authorizedPrincipalsFile},
		{&dst.authorizedPrincipalsCommand, &src.authorizedPrincipalsCommand},
		{&dst.authorizedPrincipalsCmdUser, &src.authorizedPrincipalsCmdUser},
		{&dst.hostbasedAcceptedAlgos, &src.hostbasedAcceptedAlgos},
		{&dst.pubkeyAcceptedAlgos, &src.pubkeyAcceptedAlgos},
		{&dst.caSignAlgorithms, &src.caSignAlgorithms},
		{&dst.routingDomain, &src.routingDomain},
		{&dst.permitUserEnvAllowlist, &src.permitUserEnvAllowlist},
		{&dst.agentSocketPath, &src.agentSocketPath},
	} {
		if f.s.set {
			*f.d = *f.s
		}
	}
	for _, f := range []struct{ d, s *lval }{
		{&dst.authorizedKeysFiles, &src.authorizedKeysFiles},
		{&dst.allowUsers, &src.allowUsers},
		{&dst.denyUsers, &src.denyUsers},
		{&dst.allowGroups, &src.allowGroups},
		{&dst.denyGroups, &src.denyGroups},
		{&dst.acceptEnv, &src.acceptEnv},
		{&dst.setEnv, &src.setEnv},
		{&dst.authMethods, &src.authMethods},
		{&dst.permittedOpens, &src.permittedOpens},
		{&dst.permittedListens, &src.permittedListens},
		{&dst.channelTimeouts, &src.channelTimeouts},
		{&dst.logVerbose, &src.logVerbose},
		{&dst.revokedKeysFiles, &src.revokedKeysFiles},
	} {
		if len(f.s.v) != 0 {
			*f.d = *f.s
		}
	}
	if src.pamServiceName.set && (r.Before("10.4") || r.AtLeast("10.6")) {
		// Copied by 9.8 to 10.3 and by 10.6 (measured: 9.9p2, 10.2p1,
		// 10.0 and 10.6 of Debian); 10.4 refuses it in Match, and 10.5
		// does not copy it (SSHCFG_COPY_NONE in servconf.h).
		dst.pamServiceName = src.pamServiceName
	}
	failed := r.alg.assemble(dst)
	if src.admForcedCommand.set {
		dst.admForcedCommand = src.admForcedCommand
	}
	if clearOrNone(dst.admForcedCommand) {
		dst.admForcedCommand = sval{}
	}
	if src.chrootDirectory.set {
		dst.chrootDirectory = src.chrootDirectory
	}
	if clearOrNone(dst.chrootDirectory) {
		dst.chrootDirectory = sval{}
	}
	return failed
}

// clearOrNone ports option_clear_or_none.
func clearOrNone(s sval) bool { return !s.set || asciiLower(s.v) == "none" }

// intField returns the number field of o that the keyword of opcode op sets
// (see values in directive.go), or nil.
func (o *options) intField(op opcode) *ival {
	switch op {
	case sUsePAM:
		return &o.usePAM
	case sLoginGraceTime:
		return &o.loginGraceTime
	case sAddressFamily:
		return &o.addressFamily
	case sPermitRootLogin:
		return &o.permitRootLogin
	case sIgnoreRhosts:
		return &o.ignoreRhosts
	case sIgnoreUserKnownHosts:
		return &o.ignoreUserKnownHosts
	case sHostbasedAuthentication:
		return &o.hostbasedAuthentication
	case sHostbasedUsesNameFromPacketOnly:
		return &o.hostbasedUsesNameFromPacket
	case sPubkeyAuthentication:
		return &o.pubkeyAuthentication
	case sKerberosAuthentication:
		return &o.kerberosAuthentication
	case sKerberosOrLocalPasswd:
		return &o.kerberosOrLocalPasswd
	case sKerberosTicketCleanup:
		return &o.kerberosTicketCleanup
	case sGssAuthentication:
		return &o.gssAuthentication
	case sGssKeyEx:
		return &o.gssKeyEx
	case sGssCleanupCreds:
		return &o.gssCleanupCreds
	case sGssStrictAcceptor:
		return &o.gssStrictAcceptor
	case sGssStoreRekey:
		return &o.gssStoreRekey
	case sPasswordAuthentication:
		return &o.passwordAuthentication
	case sKbdInteractiveAuthentication:
		return &o.kbdInteractiveAuthentication
	case sChallengeResponse:
		return &o.challengeResponse
	case sPrintMotd:
		return &o.printMotd
	case sPrintLastLog:
		return &o.printLastLog
	case sX11Forwarding:
		return &o.x11Forwarding
	case sX11DisplayOffset:
		return &o.x11DisplayOffset
	case sX11UseLocalhost:
		return &o.x11UseLocalhost
	case sPermitTTY:
		return &o.permitTTY
	case sPermitUserRC:
		return &o.permitUserRC
	case sStrictModes:
		return &o.strictModes
	case sTCPKeepAlive:
		return &o.tcpKeepAlive
	case sEmptyPasswd:
		return &o.permitEmptyPasswd
	case sCompression:
		return &o.compression
	case sGatewayPorts:
		return &o.gatewayPorts
	case sUseDNS:
		return &o.useDNS
	case sAllowTcpForwarding:
		return &o.allowTCPForwarding
	case sAllowStreamLocalForwarding:
		return &o.allowStreamLocalForwarding
	case sAllowAgentForwarding:
		return &o.allowAgentForwarding
	case sDisableForwarding:
		return &o.disableForwarding
	case sMaxAuthTries:
		return &o.maxAuthTries
	case sMaxSessions:
		return &o.maxSessions
	case sClientAliveInterval:
		return &o.clientAliveInterval
	case sClientAliveCountMax:
		return &o.clientAliveCountMax
	case sStreamLocalBindUnlink:
		return &o.streamLocalBindUnlink
	case sExposeAuthInfo:
		return &o.exposeUserauthInfo
	case sRequiredRSASize:
		return &o.requiredRSASize
	case sDebianBanner:
		return &o.debianBanner
	case sRefuseConnection:
		return &o.refuseConnection
	case sGSSAPIDelegateCredentials:
		return &o.gssDelegateCreds
	case sWarnWeakCrypto:
		return &o.warnWeakCrypto
	}
	return nil
}

// strField returns the string field of o that the keyword of opcode op sets
// (see values in directive.go), or nil.
func (o *options) strField(op opcode) *sval {
	switch op {
	case sPidFile:
		return &o.pidFile
	case sModuliFile:
		return &o.moduliFile
	case sHostbasedAcceptedAlgorithms:
		return &o.hostbasedAcceptedAlgos
	case sHostKeyAlgorithms:
		return &o.hostKeyAlgorithms
	case sCASignatureAlgorithms:
		return &o.caSignAlgorithms
	case sPubkeyAcceptedAlgorithms:
		return &o.pubkeyAcceptedAlgos
	case sXAuthLocation:
		return &o.xauthLocation
	case sCiphers:
		return &o.ciphers
	case sMacs:
		return &o.macs
	case sKexAlgorithms:
		return &o.kexAlgorithms
	case sBanner:
		return &o.banner
	case sChrootDirectory:
		return &o.chrootDirectory
	case sTrustedUserCAKeys:
		return &o.trustedUserCAKeys
	case sRevokedKeys:
		return &o.revokedKeysFile
	case sAuthorizedKeysCommand:
		return &o.authorizedKeysCommand
	case sAuthorizedPrincipalsCommand:
		return &o.authorizedPrincipalsCommand
	case sAuthorizedKeysCommandUser:
		return &o.authorizedKeysCommandUser
	case sAuthorizedPrincipalsCommandUser:
		return &o.authorizedPrincipalsCmdUser
	case sSshdSessionPath:
		return &o.sshdSessionPath
	case sSshdAuthPath:
		return &o.sshdAuthPath
	case sPAMServiceName:
		return &o.pamServiceName
	}
	return nil
}

// listField returns the list field of o that the keyword of opcode op sets
// (see values in directive.go), or nil.
func (o *options) listField(op opcode) *lval {
	switch op {
	case sHostKeyFile:
		return &o.hostKeyFiles
	case sHostCertificate:
		return &o.hostCertFiles
	case sAllowUsers:
		return &o.allowUsers
	case sDenyUsers:
		return &o.denyUsers
	case sAllowGroups:
		return &o.allowGroups
	case sDenyGroups:
		return &o.denyGroups
	case sPermitListen:
		return &o.permittedListens
	case sPermitOpen:
		return &o.permittedOpens
	}
	return nil
}
