package sshdconf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// processQueuedListens ports process_queued_listen_addrs: ListenAddress
// lines are resolved once every Port and AddressFamily is known.
func (e *evaluator) processQueuedListens(o *options) {
	if len(o.ports) == 0 {
		o.ports = []ival{{v: 22}}
	}
	if o.addressFamily.v == -1 {
		o.addressFamily = ival{v: 0}
	}
	o.listenIfs = e.c.opt.Interfaces
	for _, q := range o.queuedListens {
		if _, ok := resolveListen(q.addr, o.addressFamily.v, o.listenIfs); !ok {
			msg := "Address family for hostname not supported"
			if _, numeric := resolveListen(q.addr, 0, o.listenIfs); !numeric {
				msg = "Name or service not known"
				// A name with a zone (127.0.0.1%lo) is no host name either.
				if !looksNumeric(q.addr) && !strings.Contains(q.addr, "%") {
					continue // a host name: sshd would ask the resolver; we keep it
				}
			}
			e.add(Diag{Pos: q.pos, Kind: KindBadValue, Severity: SevFatal,
				Msg:  fmt.Sprintf("bad address %s (%s)", q.addr, msg),
				SSHD: fmt.Sprintf("bad addr or host: %s (%s)", q.addr, msg)})
		}
	}
}

func looksNumeric(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.' || r == ':' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == 'x' || r == 'X' || r == '%')
	}) < 0
}

// resolveListen reads a numeric ListenAddress for address family af
// (0 any, 2 inet, 10 inet6) as getaddrinfo does, an IPv6 zone as
// addrRules.pton reads it. The zone of the result is the one getnameinfo
// prints: an interface name for link-local and link-local multicast
// addresses, else the number; none for scope id 0.
func resolveListen(addr string, af int, ifs Interfaces) (netip.Addr, bool) {
	a, ok := parseAddr(addr)
	if !ok {
		return netip.Addr{}, false
	}
	if strings.Contains(addr, "%") {
		x, ok := addrRules{ifs: ifs}.pton(addr)
		if !ok {
			return netip.Addr{}, false
		}
		a = x.ip
		if x.scope != 0 {
			zone := strconv.FormatUint(uint64(x.scope), 10)
			b := a.As16()
			if ifs != nil && (b[0] == 0xfe && b[1]&0xc0 == 0x80 || b[0] == 0xff && b[1]&0xf == 2) {
				if name, ok := ifs.Name(x.scope); ok {
					zone = name
				}
			}
			a = a.WithZone(zone)
		}
	}
	if af == 2 && a.Is4In6() {
		a = a.Unmap() // getaddrinfo(AF_INET) takes a v4-mapped literal
	}
	if (af == 2 && !a.Is4()) || (af == 10 && a.Is4()) {
		return netip.Addr{}, false
	}
	return a, true
}

// fillDefaults ports fill_default_server_options. It returns the message
// sshd dies with when an algorithm list cannot be assembled, or "".
func (c *Config) fillDefaults(o *options) string {
	def := func(f *ival, v int) {
		if f.v == -1 {
			f.v = v
		}
	}
	defS := func(f *sval, v string) {
		if !f.set {
			f.v, f.set = v, true
		}
	}
	r := c.rel
	def(&o.usePAM, 0)
	defS(&o.pamServiceName, "sshd")
	if len(o.hostKeyFiles.v) == 0 {
		keys := []string{"rsa", "ecdsa", "ed25519"}
		if r.AtLeast("10.5") {
			keys = append(keys, "mldsa44_ed25519")
		}
		for _, k := range keys {
			o.hostKeyFiles.add("/etc/ssh/ssh_host_"+k+"_key", Pos{})
		}
	}
	if len(o.ports) == 0 {
		o.ports = []ival{{v: 22}}
	}
	def(&o.addressFamily, 0)
	// The paths of a Debian build, or of an upstream one configured with
	// --prefix=/usr --sysconfdir=/etc/ssh (oracle.Release.Canon).
	if r.debian {
		defS(&o.pidFile, "/run/sshd.pid")
		defS(&o.sshdSessionPath, "/usr/lib/openssh/sshd-session")
		defS(&o.sshdAuthPath, "/usr/lib/openssh/sshd-auth")
	} else {
		defS(&o.pidFile, "/var/run/sshd.pid")
		defS(&o.sshdSessionPath, "/usr/libexec/sshd-session")
		defS(&o.sshdAuthPath, "/usr/libexec/sshd-auth")
	}
	defS(&o.moduliFile, "/etc/ssh/moduli")
	def(&o.loginGraceTime, 120)
	def(&o.permitRootLogin, 3)
	def(&o.ignoreRhosts, 1)
	def(&o.ignoreUserKnownHosts, 0)
	def(&o.printMotd, 1)
	def(&o.printLastLog, 1)
	def(&o.x11Forwarding, 0)
	def(&o.x11DisplayOffset, 10)
	def(&o.x11UseLocalhost, 1)
	defS(&o.xauthLocation, "/usr/bin/xauth")
	def(&o.permitTTY, 1)
	def(&o.permitUserRC, 1)
	def(&o.strictModes, 1)
	def(&o.tcpKeepAlive, 1)
	def(&o.logFacility, 2)
	def(&o.logLevel, 3)
	def(&o.hostbasedAuthentication, 0)
	def(&o.hostbasedUsesNameFromPacket, 0)
	def(&o.pubkeyAuthentication, 1)
	if o.pubkeyAuthOptions.v == -1 && r.AtLeast("10.6") {
		o.maxPKOK.v = 6
	}
	def(&o.pubkeyAuthOptions, 0)
	def(&o.kerberosAuthentication, 0)
	def(&o.kerberosOrLocalPasswd, 1)
	def(&o.kerberosTicketCleanup, 1)
	def(&o.gssAuthentication, 0)
	def(&o.gssKeyEx, 0)
	def(&o.gssCleanupCreds, 1)
	def(&o.gssStrictAcceptor, 1)
	def(&o.gssStoreRekey, 0)
	defS(&o.gssKexAlgorithms, c.alg.defGSSKex)
	def(&o.gssDelegateCreds, 1)
	def(&o.passwordAuthentication, 1)
	if r.Before("8.7") {
		// ChallengeResponseAuthentication, on by default, is printed;
		// what it does to kbd-interactive was done before
		// (challengeResponse in firstPass, as sshd's main does it).
		def(&o.challengeResponse, 1)
	}
	def(&o.kbdInteractiveAuthentication, 1)
	def(&o.permitEmptyPasswd, 0)
	def(&o.permitUserEnv, 0)
	def(&o.compression, 2)
	if o.rekeyLimit.v == -1 {
		o.rekeyLimit.v = 0
	}
	def(&o.rekeyInterval, 0)
	def(&o.allowTCPForwarding, 3)
	def(&o.allowStreamLocalForwarding, 3)
	def(&o.allowAgentForwarding, 1)
	def(&o.gatewayPorts, 0)
	def(&o.maxStartups, 100)
	def(&o.maxStartupsRate, 30)
	def(&o.maxStartupsBegin, 10)
	def(&o.perSourceMaxStartups, intMax)
	def(&o.perSourceMasklenIPv4, 32)
	def(&o.perSourceMasklenIPv6, 128)
	def(&o.maxAuthTries, 6)
	def(&o.maxSessions, 10)
	def(&o.useDNS, 0)
	def(&o.clientAliveInterval, 0)
	def(&o.clientAliveCountMax, 3)
	if len(o.authorizedKeysFiles.v) == 0 {
		o.authorizedKeysFiles.add(".ssh/authorized_keys", Pos{})
		o.authorizedKeysFiles.add(".ssh/authorized_keys2", Pos{})
	}
	def(&o.permitTun, 0)
	qi, qb := ipQoSDefaults(r)
	def(&o.ipQoSInteractive, qi)
	def(&o.ipQoSBulk, qb)
	defS(&o.versionAddendum, "")
	def(&o.streamLocalBindMask, 0o177)
	def(&o.streamLocalBindUnlink, 0)
	def(&o.fingerprintHash, 2)
	def(&o.disableForwarding, 0)
	def(&o.exposeUserauthInfo, 0)
	defS(&o.skProvider, "internal")
	def(&o.requiredRSASize, 1024)
	def(&o.unusedConnectionTimeout, 0)
	def(&o.debianBanner, 1)
	def(&o.refuseConnection, 0)
	def(&o.warnWeakCrypto, 1)
	defS(&o.agentSocketPath, "user:.ssh/agent")
	o.penalties.fill()

	failed := c.alg.assemble(o)

	for _, f := range []*sval{&o.pidFile, &o.xauthLocation, &o.banner, &o.trustedUserCAKeys,
		&o.revokedKeysFile, &o.skProvider, &o.authorizedPrincipalsFile, &o.admForcedCommand,
		&o.chrootDirectory, &o.routingDomain, &o.hostKeyAgent, &o.perSourcePenaltyExempt} {
		if clearOrNone(*f) {
			*f = sval{}
		}
	}
	for _, l := range []*lval{&o.hostKeyFiles, &o.hostCertFiles} {
		for i, v := range l.v {
			if strings.EqualFold(v, "none") {
				l.v[i] = "(null)" // printf("%s", NULL) in glibc
			}
		}
	}
	if len(o.channelTimeouts.v) == 1 && strings.EqualFold(o.channelTimeouts.v[0], "none") {
		o.channelTimeouts = lval{}
	}
	if len(o.authMethods.v) == 1 && strings.EqualFold(o.authMethods.v[0], "any") {
		o.authMethods = lval{}
	}
	if len(o.revokedKeysFiles.v) == 1 && strings.EqualFold(o.revokedKeysFiles.v[0], "none") {
		o.revokedKeysFiles = lval{}
	}
	// From 10.3 (CLEAR_ON_NONE_ARRAY; 10.2p1 has none): "AuthorizedKeysFile
	// none" leaves no file, and sshd -T prints no line (measured on 10.5p1
	// and 10.6).
	if c.rel.AtLeast("10.3") && len(o.authorizedKeysFiles.v) == 1 && strings.EqualFold(o.authorizedKeysFiles.v[0], "none") {
		o.authorizedKeysFiles = lval{}
	}
	return failed
}

// ipQoSDefaults returns r's default IPQoS (interactive, bulk): upstream's
// af21 cs1 until 10.1 made it ef cs0; Debian kept lowdelay throughput
// (measured on 9.2), and 10.0 sets ef cs1 (ipqos-interactive-ef.patch).
func ipQoSDefaults(r *Release) (int, int) {
	switch {
	case r.debian && r.Before("10.0"):
		return 0x10, 0x08
	case r.debian && r.Before("10.1"):
		return 0xb8, 0x20
	case r.Before("10.1"):
		return 0x48, 0x20
	}
	return 0xb8, 0x00
}

// fill ports the PerSourcePenalties part of fill_default_server_options.
func (p *penalties) fill() {
	for _, f := range []struct {
		v   *float64
		def float64
	}{{&p.crash, 90}, {&p.grace, 10}, {&p.authfail, 5}, {&p.invaliduser, 5}, {&p.noauth, 1}, {&p.refuse, 10}, {&p.min, 15}, {&p.max, 600}} {
		if *f.v < 0 {
			*f.v = f.def
		}
	}
	for _, f := range []struct {
		v   *int
		def int
	}{{&p.enabled, 1}, {&p.sources4, 65536}, {&p.sources6, 65536}, {&p.overflow, overflowPermissive}} {
		if *f.v == -1 {
			*f.v = f.def
		}
	}
	if p.overflow6 == -1 {
		p.overflow6 = p.overflow
	}
}

// checkSensible ports the checks sshd's main makes after loading.
func (e *evaluator) checkSensible(o *options) {
	cmdNoUser := func(cmd, user sval, what string) {
		if !user.set && cmd.set && !strings.EqualFold(cmd.v, "none") {
			e.add(Diag{Pos: cmd.pos, Kind: KindBadValue, Severity: SevFatal,
				Msg:  fmt.Sprintf("%s set without %sUser", what, what),
				SSHD: fmt.Sprintf("%s set without %sUser", what, what)})
		}
	}
	cmdNoUser(o.authorizedKeysCommand, o.authorizedKeysCommandUser, "AuthorizedKeysCommand")
	cmdNoUser(o.authorizedPrincipalsCommand, o.authorizedPrincipalsCmdUser, "AuthorizedPrincipalsCommand")
	if len(o.authMethods.v) == 0 {
		return
	}
	enabled := map[string]int{
		"gssapi-keyex": o.gssAuthentication.v, "gssapi-with-mic": o.gssAuthentication.v,
		"hostbased": o.hostbasedAuthentication.v, "keyboard-interactive": o.kbdInteractiveAuthentication.v,
		"none": 1, "password": o.passwordAuthentication.v, "publickey": o.pubkeyAuthentication.v,
	}
	for _, list := range o.authMethods.v {
		ok := true
		for _, m := range strings.Split(list, ",") {
			name, _, _ := strings.Cut(m, ":")
			if enabled[name] == 0 {
				ok = false
				break
			}
		}
		if ok {
			return
		}
	}
	e.add(Diag{Pos: o.authMethods.pos[0], Kind: KindBadValue, Severity: SevFatal,
		Msg:  "AuthenticationMethods cannot be satisfied by enabled authentication methods",
		SSHD: "AuthenticationMethods cannot be satisfied by enabled authentication methods"})
}

// listenLines formats the listen addresses as dump_config does.
func listenLines(o *options) []Setting {
	var out []Setting
	add := func(a netip.Addr, port int, p Pos) {
		s := a.String()
		if a.Is6() {
			b := a.As16()
			if [12]byte(b[:12]) == [12]byte{} && (b[12] != 0 || b[13] != 0) {
				// glibc's inet_ntop prints IPv4-compatible addresses dotted.
				s = "::" + netip.AddrFrom4([4]byte(b[12:])).String()
				if a.Zone() != "" {
					s += "%" + a.Zone()
				}
			}
			s = "[" + s + "]"
		}
		out = append(out, Setting{Keyword: "listenaddress", Value: s + ":" + strconv.Itoa(port), Pos: p})
	}
	if len(o.queuedListens) == 0 {
		for _, port := range o.ports {
			if o.addressFamily.v != 2 {
				add(netip.IPv6Unspecified(), port.v, Pos{})
			}
			if o.addressFamily.v != 10 {
				add(netip.IPv4Unspecified(), port.v, Pos{})
			}
		}
		return out
	}
	for _, q := range o.queuedListens {
		a, ok := resolveListen(q.addr, o.addressFamily.v, o.listenIfs)
		ports := []ival{{v: q.port}}
		if q.port == 0 {
			ports = o.ports
		}
		for _, port := range ports {
			if !ok {
				out = append(out, Setting{Keyword: "listenaddress", Value: q.addr + ":" + strconv.Itoa(port.v), Pos: q.pos})
				continue
			}
			add(a, port.v, q.pos)
		}
	}
	return out
}
