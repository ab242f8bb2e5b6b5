package sshdconf

import "strings"

// opcode mirrors ServerOpCodes of OpenSSH servconf.c.
type opcode int

const (
	sBadOption opcode = iota
	sUsePAM
	sPort
	sHostKeyFile
	sLoginGraceTime
	sPermitRootLogin
	sLogFacility
	sLogLevel
	sLogVerbose
	sKerberosAuthentication
	sKerberosOrLocalPasswd
	sKerberosTicketCleanup
	sKerberosGetAFSToken
	sPasswordAuthentication
	sKbdInteractiveAuthentication
	sListenAddress
	sAddressFamily
	sPrintMotd
	sPrintLastLog
	sIgnoreRhosts
	sX11Forwarding
	sX11DisplayOffset
	sX11UseLocalhost
	sPermitTTY
	sStrictModes
	sEmptyPasswd
	sTCPKeepAlive
	sPermitUserEnvironment
	sAllowTcpForwarding
	sCompression
	sRekeyLimit
	sAllowUsers
	sDenyUsers
	sAllowGroups
	sDenyGroups
	sIgnoreUserKnownHosts
	sCiphers
	sMacs
	sPidFile
	sModuliFile
	sGatewayPorts
	sPubkeyAuthentication
	sPubkeyAcceptedAlgorithms
	sXAuthLocation
	sSubsystem
	sMaxStartups
	sMaxAuthTries
	sMaxSessions
	sBanner
	sUseDNS
	sHostbasedAuthentication
	sHostbasedUsesNameFromPacketOnly
	sHostbasedAcceptedAlgorithms
	sHostKeyAlgorithms
	sPerSourceMaxStartups
	sPerSourceNetBlockSize
	sClientAliveInterval
	sClientAliveCountMax
	sAuthorizedKeysFile
	sGssAuthentication
	sGssCleanupCreds
	sGssStrictAcceptor
	sGssKeyEx
	sGssKexAlgorithms
	sGssStoreRekey
	sAcceptEnv
	sSetEnv
	sPermitTunnel
	sMatch
	sPermitOpen
	sPermitListen
	sForceCommand
	sChrootDirectory
	sUsePrivilegeSeparation
	sAllowAgentForwarding
	sHostCertificate
	sInclude
	sRevokedKeys
	sTrustedUserCAKeys
	sAuthorizedPrincipalsFile
	sAuthorizedPrincipalsCommand
	sAuthorizedPrincipalsCommandUser
	sKexAlgorithms
	sCASignatureAlgorithms
	sIPQoS
	sVersionAddendum
	sAuthorizedKeysCommand
	sAuthorizedKeysCommandUser
	sAuthenticationMethods
	sHostKeyAgent
	sPermitUserRC
	sStreamLocalBindMask
	sStreamLocalBindUnlink
	sAllowStreamLocalForwarding
	sFingerprintHash
	sDisableForwarding
	sExposeAuthInfo
	sRDomain
	sPubkeyAuthOptions
	sSecurityKeyProvider
	sRequiredRSASize
	sChannelTimeout
	sUnusedConnectionTimeout
	sDebianBanner
	// ChallengeResponseAuthentication before 8.7: a keyword of its own.
	sChallengeResponse
	// Keywords of OpenSSH releases after 9.2; an older sshd calls them bad.
	sPerSourcePenalties
	sPerSourcePenaltyExemptList
	sSshdSessionPath
	sSshdAuthPath
	sRefuseConnection
	sPAMServiceName
	sGSSAPIDelegateCredentials
	sAgentSocketPath
	sWarnWeakCrypto
	sDeprecated
	sIgnore
	sUnsupported
)

const (
	cfgGlobal = 0x01 // allowed in the main section
	cfgMatch  = 0x02 // allowed inside a Match block
	cfgAll    = cfgGlobal | cfgMatch

	// Include flags, internal to evaluation (SSHCFG_NEVERMATCH, SSHCFG_MATCH_ONLY).
	cfgNeverMatch = 0x04
	cfgMatchOnly  = 0x08
)

// ValueType says what a keyword's argument is.
type ValueType string

// Value types.
const (
	TypeFlag     ValueType = "flag"     // yes or no
	TypeEnum     ValueType = "enum"     // one of Keyword.Choices
	TypeTime     ValueType = "time"     // seconds, or N[smhdw]...
	TypeInt      ValueType = "int"      // a non-negative integer
	TypePath     ValueType = "path"     // a file name, relative to sshd's cwd unless absolute
	TypeString   ValueType = "string"   // a word
	TypeAlgos    ValueType = "algos"    // comma list, may start with + - ^
	TypePatterns ValueType = "patterns" // user, group or host patterns
	TypeCommand  ValueType = "command"  // the rest of the line
	TypeSpecial  ValueType = "special"  // a syntax of its own
	TypeNone     ValueType = "none"     // deprecated or unsupported: ignored
)

// Combine says how several lines setting one keyword combine.
type Combine string

// Ways of combining repeated lines.
const (
	FirstWins  Combine = "first"      // the first value obtained is used
	FirstLine  Combine = "first-line" // the list of the first line is used
	Accumulate Combine = "accumulate" // every line adds to the list
	LastWins   Combine = "last"       // every line overrides (sshd quirk)
	NoneWins   Combine = "none-wins"  // first value wins, but "none" always wins
)

// Keyword describes one sshd_config keyword.
type Keyword struct {
	Name    string    // canonical spelling, as in sshd_config(5)
	Type    ValueType // argument type
	Choices []string  // for TypeEnum
	Match   bool      // allowed inside a Match block
	Combine Combine   // how several lines setting it combine
	Default string    // the value `sshd -T` prints when unset ("" when it prints nothing)
	Since   string    // OpenSSH release that introduced it ("" for releases before 7.0)
	// MatchSince is the release from which Match allows it, when that came
	// later than the keyword (Match, and the flags, are what sshd 9.2
	// allows; see MatchIn).
	MatchSince string
	// Deprecated is the release that deprecated it, and AliasOf the keyword it
	// now stands for, if any.
	Deprecated string
	AliasOf    string
	// Until is the first release that no longer knows the keyword ("" when
	// every release from Since on does).
	Until string
	// Debian marks keywords only Debian's build knows (its patches), and
	// GSS those a build without GSSAPI calls unsupported (or, for Debian's
	// GSSAPI keywords, does not know: Debian forky's 10.6p1 measured).
	Debian, GSS bool
	op          opcode
	flags       int
	lower       string // strings.ToLower(Name)
}

// keywords is servconf.c's keywords[] for OpenSSH 9.2p1 as built by Debian
// 12 (PAM, GSSAPI with Debian's key-exchange patch, Kerberos, no AFS), plus
// later keywords marked with Since, which an older sshd refuses.
var keywords = []Keyword{
	{Name: "UsePAM", op: sUsePAM, flags: cfgGlobal, Type: TypeFlag, Default: "no"},
	{Name: "PAMAuthenticationViaKbdInt", op: sDeprecated, flags: cfgGlobal, Type: TypeNone, Deprecated: "4.0", Until: "10.5"},
	{Name: "Port", op: sPort, flags: cfgGlobal, Type: TypeSpecial, Combine: Accumulate, Default: "22"},
	{Name: "HostKey", op: sHostKeyFile, flags: cfgGlobal, Type: TypePath, Combine: Accumulate},
	{Name: "HostDSAKey", op: sHostKeyFile, flags: cfgGlobal, Type: TypePath, Combine: Accumulate, AliasOf: "HostKey"},
	{Name: "HostKeyAgent", op: sHostKeyAgent, flags: cfgGlobal, Type: TypePath, Default: "none"},
	{Name: "PidFile", op: sPidFile, flags: cfgGlobal, Type: TypePath, Default: "/run/sshd.pid"},
	{Name: "ModuliFile", op: sModuliFile, flags: cfgGlobal, Type: TypePath, Default: "/etc/ssh/moduli", Since: "8.5"},
	{Name: "ServerKeyBits", op: sDeprecated, flags: cfgGlobal, Type: TypeNone, Deprecated: "7.4"},
	{Name: "LoginGraceTime", op: sLoginGraceTime, flags: cfgGlobal, Type: TypeTime, Default: "120"},
	{Name: "KeyRegenerationInterval", op: sDeprecated, flags: cfgGlobal, Type: TypeNone, Deprecated: "7.4"},
	{Name: "PermitRootLogin", op: sPermitRootLogin, flags: cfgAll, Type: TypeEnum, Choices: []string{"yes", "prohibit-password", "without-password", "forced-commands-only", "no"}, Default: "without-password"},
	{Name: "SyslogFacility", op: sLogFacility, flags: cfgGlobal, Type: TypeEnum, Choices: []string{"DAEMON", "USER", "AUTH", "AUTHPRIV", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7"}, Default: "AUTH"},
	{Name: "LogLevel", op: sLogLevel, flags: cfgAll, Type: TypeEnum, Choices: []string{"QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3"}, Default: "INFO"},
	{Name: "LogVerbose", op: sLogVerbose, flags: cfgAll, Type: TypeSpecial, Combine: FirstLine, Since: "8.5"},
	{Name: "RhostsAuthentication", op: sDeprecated, flags: cfgGlobal, Type: TypeNone, Deprecated: "3.7"},
	{Name: "RhostsRSAAuthentication", op: sDeprecated, flags: cfgAll, Type: TypeNone, Deprecated: "7.4"},
	{Name: "HostbasedAuthentication", op: sHostbasedAuthentication, flags: cfgAll, Type: TypeFlag, Default: "no"},
	{Name: "HostbasedUsesNameFromPacketOnly", op: sHostbasedUsesNameFromPacketOnly, flags: cfgAll, Type: TypeFlag, Default: "no"},
	{Name: "HostbasedAcceptedAlgorithms", op: sHostbasedAcceptedAlgorithms, flags: cfgAll, Type: TypeAlgos, Since: "8.5"},
	{Name: "HostbasedAcceptedKeyTypes", op: sHostbasedAcceptedAlgorithms, flags: cfgAll, Type: TypeAlgos, Deprecated: "8.5", AliasOf: "HostbasedAcceptedAlgorithms"},
	{Name: "HostKeyAlgorithms", op: sHostKeyAlgorithms, flags: cfgGlobal, Type: TypeAlgos},
	{Name: "RSAAuthentication", op: sDeprecated, flags: cfgAll, Type: TypeNone, Deprecated: "7.4"},
	{Name: "PubkeyAuthentication", op: sPubkeyAuthentication, flags: cfgAll, Type: TypeFlag, Default: "yes"},
	{Name: "PubkeyAcceptedAlgorithms", op: sPubkeyAcceptedAlgorithms, flags: cfgAll, Type: TypeAlgos, Since: "8.5"},
	{Name: "PubkeyAcceptedKeyTypes", op: sPubkeyAcceptedAlgorithms, flags: cfgAll, Type: TypeAlgos, Deprecated: "8.5", AliasOf: "PubkeyAcceptedAlgorithms"},
	{Name: "PubkeyAuthOptions", op: sPubkeyAuthOptions, flags: cfgAll, Type: TypeSpecial, Default: "none", Since: "8.2"},
	{Name: "DSAAuthentication", op: sPubkeyAuthentication, flags: cfgGlobal, Type: TypeFlag, AliasOf: "PubkeyAuthentication"},
	{Name: "KerberosAuthentication", op: sKerberosAuthentication, flags: cfgAll, Type: TypeFlag, Default: "no", GSS: true},
	{Name: "KerberosOrLocalPasswd", op: sKerberosOrLocalPasswd, flags: cfgGlobal, Type: TypeFlag, Default: "yes", GSS: true},
	{Name: "KerberosTicketCleanup", op: sKerberosTicketCleanup, flags: cfgGlobal, Type: TypeFlag, Default: "yes", GSS: true},
	{Name: "KerberosGetAFSToken", op: sUnsupported, flags: cfgGlobal, Type: TypeNone},
	{Name: "KerberosTgtPassing", op: sUnsupported, flags: cfgGlobal, Type: TypeNone},
	{Name: "AFSTokenPassing", op: sUnsupported, flags: cfgGlobal, Type: TypeNone},
	{Name: "GSSAPIAuthentication", op: sGssAuthentication, flags: cfgAll, Type: TypeFlag, Default: "no", GSS: true},
	{Name: "GSSAPICleanupCredentials", op: sGssCleanupCreds, flags: cfgGlobal, Type: TypeFlag, Default: "yes", GSS: true},
	{Name: "GSSAPICleanupCreds", op: sGssCleanupCreds, flags: cfgGlobal, Type: TypeFlag, AliasOf: "GSSAPICleanupCredentials", Debian: true, GSS: true},
	{Name: "GSSAPIStrictAcceptorCheck", op: sGssStrictAcceptor, flags: cfgGlobal, Type: TypeFlag, Default: "yes", GSS: true},
	{Name: "GSSAPIKeyExchange", op: sGssKeyEx, flags: cfgGlobal, Type: TypeFlag, Debian: true, GSS: true, Default: "no"},
	{Name: "GSSAPIStoreCredentialsOnRekey", op: sGssStoreRekey, flags: cfgGlobal, Type: TypeFlag, Debian: true, GSS: true, Default: "no"},
	{Name: "GSSAPIKexAlgorithms", op: sGssKexAlgorithms, flags: cfgGlobal, Type: TypeAlgos, Debian: true, GSS: true},
	{Name: "GSSUseSessionCCache", op: sUnsupported, flags: cfgGlobal, Type: TypeNone, Debian: true, GSS: true},
	{Name: "GSSAPIUseSessionCredCache", op: sUnsupported, flags: cfgGlobal, Type: TypeNone, Debian: true, GSS: true},
	{Name: "PasswordAuthentication", op: sPasswordAuthentication, flags: cfgAll, Type: TypeFlag, Default: "yes"},
	{Name: "KbdInteractiveAuthentication", op: sKbdInteractiveAuthentication, flags: cfgAll, Type: TypeFlag, Default: "yes"},
	{Name: "ChallengeResponseAuthentication", op: sKbdInteractiveAuthentication, flags: cfgAll, Type: TypeFlag, Deprecated: "8.7", AliasOf: "KbdInteractiveAuthentication", MatchSince: "8.7"},
	{Name: "SkeyAuthentication", op: sKbdInteractiveAuthentication, flags: cfgAll, Type: TypeFlag, AliasOf: "KbdInteractiveAuthentication", MatchSince: "8.7"},
	{Name: "CheckMail", op: sDeprecated, flags: cfgGlobal, Type: TypeNone},
	{Name: "ListenAddress", op: sListenAddress, flags: cfgGlobal, Type: TypeSpecial, Combine: Accumulate},
	{Name: "AddressFamily", op: sAddressFamily, flags: cfgGlobal, Type: TypeEnum, Choices: []string{"any", "inet", "inet6"}, Default: "any"},
	{Name: "PrintMotd", op: sPrintMotd, flags: cfgGlobal, Type: TypeFlag, Default: "yes"},
	{Name: "PrintLastLog", op: sPrintLastLog, flags: cfgGlobal, Type: TypeFlag, Default: "yes"},
	{Name: "IgnoreRhosts", op: sIgnoreRhosts, flags: cfgAll, Type: TypeEnum, Choices: []string{"yes", "no", "shosts-only"}, Default: "yes", MatchSince: "8.4"},
	{Name: "IgnoreUserKnownHosts", op: sIgnoreUserKnownHosts, flags: cfgGlobal, Type: TypeFlag, Default: "no"},
	{Name: "X11Forwarding", op: sX11Forwarding, flags: cfgAll, Type: TypeFlag, Default: "no"},
	{Name: "X11DisplayOffset", op: sX11DisplayOffset, flags: cfgAll, Type: TypeInt, Default: "10"},
	{Name: "X11UseLocalhost", op: sX11UseLocalhost, flags: cfgAll, Type: TypeFlag, Default: "yes"},
	{Name: "XAuthLocation", op: sXAuthLocation, flags: cfgGlobal, Type: TypePath, Default: "/usr/bin/xauth"},
	{Name: "StrictModes", op: sStrictModes, flags: cfgGlobal, Type: TypeFlag, Default: "yes"},
	{Name: "PermitBlacklistedKeys", op: sDeprecated, flags: cfgGlobal, Type: TypeNone, Debian: true},
	{Name: "PermitEmptyPasswords", op: sEmptyPasswd, flags: cfgAll, Type: TypeFlag, Default: "no"},
	{Name: "PermitUserEnvironment", op: sPermitUserEnvironment, flags: cfgGlobal, Type: TypeSpecial, Default: "no"},
	{Name: "UseLogin", op: sDeprecated, flags: cfgGlobal, Type: TypeNone, Deprecated: "7.4"},
	{Name: "Compression", op: sCompression, flags: cfgGlobal, Type: TypeEnum, Choices: []string{"yes", "delayed", "no"}, Default: "yes"},
	{Name: "RekeyLimit", op: sRekeyLimit, flags: cfgAll, Type: TypeSpecial, Default: "0 0"},
	{Name: "TCPKeepAlive", op: sTCPKeepAlive, flags: cfgGlobal, Type: TypeFlag, Default: "yes"},
	{Name: "KeepAlive", op: sTCPKeepAlive, flags: cfgGlobal, Type: TypeFlag, AliasOf: "TCPKeepAlive"},
	{Name: "AllowTcpForwarding", op: sAllowTcpForwarding, flags: cfgAll, Type: TypeEnum, Choices: []string{"yes", "all", "no", "remote", "local"}, Default: "yes"},
	{Name: "AllowAgentForwarding", op: sAllowAgentForwarding, flags: cfgAll, Type: TypeFlag, Default: "yes"},
	{Name: "AllowUsers", op: sAllowUsers, flags: cfgAll, Type: TypePatterns, Combine: Accumulate},
	{Name: "DenyUsers", op: sDenyUsers, flags: cfgAll, Type: TypePatterns, Combine: Accumulate},
	{Name: "AllowGroups", op: sAllowGroups, flags: cfgAll, Type: TypePatterns, Combine: Accumulate},
	{Name: "DenyGroups", op: sDenyGroups, flags: cfgAll, Type: TypePatterns, Combine: Accumulate},
	{Name: "Ciphers", op: sCiphers, flags: cfgGlobal, Type: TypeAlgos},
	{Name: "MACs", op: sMacs, flags: cfgGlobal, Type: TypeAlgos},
	{Name: "Protocol", op: sIgnore, flags: cfgGlobal, Type: TypeNone, Deprecated: "7.4"},
	{Name: "GatewayPorts", op: sGatewayPorts, flags: cfgAll, Type: TypeEnum, Choices: []string{"clientspecified", "yes", "no"}, Default: "no"},
	{Name: "Subsystem", op: sSubsystem, flags: cfgGlobal, Type: TypeSpecial, Combine: Accumulate, MatchSince: "9.5"},
	{Name: "MaxStartups", op: sMaxStartups, flags: cfgGlobal, Type: TypeSpecial, Combine: LastWins, Default: "10:30:100"},
	{Name: "PerSourceMaxStartups", op: sPerSourceMaxStartups, flags: cfgGlobal, Type: TypeSpecial, Combine: LastWins, Default: "none", Since: "8.5"},
	{Name: "PerSourceNetBlockSize", op: sPerSourceNetBlockSize, flags: cfgGlobal, Type: TypeSpecial, Combine: LastWins, Default: "32:128", Since: "8.5"},
	{Name: "MaxAuthTries", op: sMaxAuthTries, flags: cfgAll, Type: TypeInt, Default: "6"},
	{Name: "MaxSessions", op: sMaxSessions, flags: cfgAll, Type: TypeInt, Default: "10"},
	{Name: "Banner", op: sBanner, flags: cfgAll, Type: TypePath, Default: "none"},
	{Name: "UseDNS", op: sUseDNS, flags: cfgGlobal, Type: TypeFlag, Default: "no"},
	{Name: "VerifyReverseMapping", op: sDeprecated, flags: cfgGlobal, Type: TypeNone},
	{Name: "ReverseMappingCheck", op: sDeprecated, flags: cfgGlobal, Type: TypeNone},
	{Name: "ClientAliveInterval", op: sClientAliveInterval, flags: cfgAll, Type: TypeTime, Default: "0"},
	{Name: "ClientAliveCountMax", op: sClientAliveCountMax, flags: cfgAll, Type: TypeInt, Default: "3"},
	{Name: "AuthorizedKeysFile", op: sAuthorizedKeysFile, flags: cfgAll, Type: TypeSpecial, Combine: FirstLine, Default: ".ssh/authorized_keys .ssh/authorized_keys2"},
	{Name: "AuthorizedKeysFile2", op: sDeprecated, flags: cfgAll, Type: TypeNone},
	{Name: "UsePrivilegeSeparation", op: sDeprecated, flags: cfgGlobal, Type: TypeNone, Deprecated: "7.5"},
	{Name: "AcceptEnv", op: sAcceptEnv, flags: cfgAll, Type: TypeSpecial, Combine: Accumulate},
	{Name: "SetEnv", op: sSetEnv, flags: cfgAll, Type: TypeSpecial, Combine: FirstLine, Since: "7.8"},
	{Name: "PermitTunnel", op: sPermitTunnel, flags: cfgAll, Type: TypeEnum, Choices: []string{"no", "point-to-point", "ethernet", "yes"}, Default: "no"},
	{Name: "PermitTTY", op: sPermitTTY, flags: cfgAll, Type: TypeFlag, Default: "yes"},
	{Name: "PermitUserRC", op: sPermitUserRC, flags: cfgAll, Type: TypeFlag, Default: "yes"},
	{Name: "Match", op: sMatch, flags: cfgAll, Type: TypeSpecial},
	{Name: "PermitOpen", op: sPermitOpen, flags: cfgAll, Type: TypeSpecial, Combine: FirstLine, Default: "any"},
	{Name: "PermitListen", op: sPermitListen, flags: cfgAll, Type: TypeSpecial, Combine: FirstLine, Default: "any", Since: "7.8"},
	{Name: "ForceCommand", op: sForceCommand, flags: cfgAll, Type: TypeCommand, Default: "none"},
	{Name: "ChrootDirectory", op: sChrootDirectory, flags: cfgAll, Type: TypeString, Default: "none"},
	{Name: "HostCertificate", op: sHostCertificate, flags: cfgGlobal, Type: TypePath, Combine: Accumulate},
	{Name: "RevokedKeys", op: sRevokedKeys, flags: cfgAll, Type: TypePath, Default: "none"},
	{Name: "TrustedUserCAKeys", op: sTrustedUserCAKeys, flags: cfgAll, Type: TypePath, Default: "none"},
	{Name: "AuthorizedPrincipalsFile", op: sAuthorizedPrincipalsFile, flags: cfgAll, Type: TypeString, Default: "none"},
	{Name: "KexAlgorithms", op: sKexAlgorithms, flags: cfgGlobal, Type: TypeAlgos},
	{Name: "Include", op: sInclude, flags: cfgAll, Type: TypeSpecial, Since: "8.2"},
	{Name: "IPQoS", op: sIPQoS, flags: cfgAll, Type: TypeSpecial, Combine: LastWins, Default: "lowdelay throughput"},
	{Name: "AuthorizedKeysCommand", op: sAuthorizedKeysCommand, flags: cfgAll, Type: TypeCommand, Default: "none"},
	{Name: "AuthorizedKeysCommandUser", op: sAuthorizedKeysCommandUser, flags: cfgAll, Type: TypeString, Default: "none"},
	{Name: "AuthorizedPrincipalsCommand", op: sAuthorizedPrincipalsCommand, flags: cfgAll, Type: TypeCommand, Default: "none"},
	{Name: "AuthorizedPrincipalsCommandUser", op: sAuthorizedPrincipalsCommandUser, flags: cfgAll, Type: TypeString, Default: "none"},
	{Name: "VersionAddendum", op: sVersionAddendum, flags: cfgGlobal, Type: TypeCommand, Default: "none"},
	{Name: "AuthenticationMethods", op: sAuthenticationMethods, flags: cfgAll, Type: TypeSpecial, Combine: FirstLine, Default: "any"},
	{Name: "StreamLocalBindMask", op: sStreamLocalBindMask, flags: cfgAll, Type: TypeSpecial, Combine: LastWins, Default: "0177"},
	{Name: "StreamLocalBindUnlink", op: sStreamLocalBindUnlink, flags: cfgAll, Type: TypeFlag, Default: "no"},
	{Name: "AllowStreamLocalForwarding", op: sAllowStreamLocalForwarding, flags: cfgAll, Type: TypeEnum, Choices: []string{"yes", "all", "no", "remote", "local"}, Default: "yes"},
	{Name: "FingerprintHash", op: sFingerprintHash, flags: cfgGlobal, Type: TypeEnum, Choices: []string{"MD5", "SHA1", "SHA256", "SHA384", "SHA512"}, Combine: LastWins, Default: "SHA256"},
	{Name: "DisableForwarding", op: sDisableForwarding, flags: cfgAll, Type: TypeFlag, Default: "no"},
	{Name: "ExposeAuthInfo", op: sExposeAuthInfo, flags: cfgAll, Type: TypeFlag, Default: "no", Since: "7.6"},
	{Name: "RDomain", op: sRDomain, flags: cfgAll, Type: TypeString, Since: "7.6"},
	{Name: "CASignatureAlgorithms", op: sCASignatureAlgorithms, flags: cfgAll, Type: TypeAlgos, Since: "7.9"},
	{Name: "SecurityKeyProvider", op: sSecurityKeyProvider, flags: cfgGlobal, Type: TypePath, Default: "internal", Since: "8.2"},
	{Name: "RequiredRSASize", op: sRequiredRSASize, flags: cfgAll, Type: TypeInt, Default: "1024", Since: "9.1"},
	{Name: "ChannelTimeout", op: sChannelTimeout, flags: cfgAll, Type: TypeSpecial, Combine: FirstLine, Since: "9.2"},
	{Name: "UnusedConnectionTimeout", op: sUnusedConnectionTimeout, flags: cfgAll, Type: TypeTime, Combine: NoneWins, Default: "none", Since: "9.2"},
	// Debian's patch: on by default, and sshd -T does not print it.
	{Name: "DebianBanner", op: sDebianBanner, flags: cfgGlobal, Type: TypeFlag, Debian: true},
	// Added after 9.2 (sshd 9.2 refuses them as bad configuration options).
	{Name: "PerSourcePenalties", op: sPerSourcePenalties, flags: cfgGlobal, Type: TypeSpecial, Since: "9.8"},
	{Name: "PerSourcePenaltyExemptList", op: sPerSourcePenaltyExemptList, flags: cfgGlobal, Type: TypePatterns, Since: "9.8", Default: "none"},
	{Name: "SshdSessionPath", op: sSshdSessionPath, flags: cfgGlobal, Type: TypePath, Since: "9.8"},
	{Name: "SshdAuthPath", op: sSshdAuthPath, flags: cfgGlobal, Type: TypePath, Since: "10.0"},
	{Name: "RefuseConnection", op: sRefuseConnection, flags: cfgAll, Type: TypeFlag, Since: "9.9", Default: "no"},
	{Name: "PAMServiceName", op: sPAMServiceName, flags: cfgAll, Type: TypeString, Since: "9.8", Default: "sshd"},
	// In 10.3p1's sources (servconf.c keywords[], dump_config), not in
	// 10.2p1's; a GSSAPI keyword, which a build without GSSAPI does not know.
	{Name: "GSSAPIDelegateCredentials", op: sGSSAPIDelegateCredentials, flags: cfgGlobal, Type: TypeFlag, Since: "10.3", Default: "yes", GSS: true},
	// Printed by Debian forky's 10.6p1, which is newer than every upstream
	// tag here (10.5p1 has neither).
	{Name: "AgentSocketPath", op: sAgentSocketPath, flags: cfgAll, Type: TypeString, Since: "10.6", Default: "user:.ssh/agent"},
	{Name: "WarnWeakCrypto", op: sWarnWeakCrypto, flags: cfgGlobal, Type: TypeFlag, Since: "10.6", Default: "true"},
}

// table is keywords with the derived fields filled in; byName and byOp (by
// opcode, for dump) index it. They are built once and never written after.
var table, byName, byOp = buildIndex()

func buildIndex() ([]Keyword, map[string]*Keyword, []*Keyword) {
	t := append([]Keyword(nil), keywords...)
	names := make(map[string]*Keyword, len(t))
	ops := make([]*Keyword, sDeprecated)
	for i := range t {
		k := &t[i]
		if k.Combine == "" {
			k.Combine = FirstWins
		}
		k.Match = k.flags&cfgMatch != 0
		k.lower = strings.ToLower(k.Name)
		names[k.lower] = k
		if k.op < sDeprecated && ops[k.op] == nil {
			ops[k.op] = k
		}
	}
	// The spelling of the manual too, so that Lookup finds the usual
	// "PasswordAuthentication" without lower-casing it first.
	for i := range t {
		if _, ok := names[t[i].Name]; !ok {
			names[t[i].Name] = names[t[i].lower]
		}
	}
	return t, names, ops
}

// In reports whether release r's sshd knows k (it may still ignore it, as
// a deprecated or unsupported keyword).
func (k *Keyword) In(r *Release) bool {
	return (k.Since == "" || r.AtLeast(k.Since)) && (k.Until == "" || r.Before(k.Until)) && (!k.Debian || r.debian) &&
		(!k.Debian || !k.GSS || r.gssapi)
}

// opIn returns the opcode release r's sshd reads k with, which changed for
// a few keywords (measured with each release's sshd -t).
func (k *Keyword) opIn(r *Release) opcode {
	switch {
	case k.GSS && !r.gssapi:
		return sUnsupported // "Unsupported option", and ignored
	case k.lower == "challengeresponseauthentication" && r.Before("8.7"):
		return sChallengeResponse // not yet KbdInteractiveAuthentication
	case k.lower == "skeyauthentication" && r.Before("8.7"):
		return sDeprecated
	case (k.lower == "kerberostgtpassing" || k.lower == "afstokenpassing") && r.AtLeast("10.5"):
		return sDeprecated // "Deprecated option" (servconf.c rewritten in 10.5)
	}
	return k.op
}

// MatchIn reports whether release r's sshd allows k inside a Match block.
func (k *Keyword) MatchIn(r *Release) bool { return k.flagsIn(r)&cfgMatch != 0 }

// flagsIn returns k's flags (cfgGlobal, cfgMatch) in release r: Match
// allows some keywords only from MatchSince on.
func (k *Keyword) flagsIn(r *Release) int {
	f := k.flags
	if k.MatchSince != "" {
		if r.AtLeast(k.MatchSince) {
			f |= cfgMatch
		} else {
			f &^= cfgMatch
		}
	}
	return f
}

// Keywords returns the keyword table, in servconf.c's order.
func Keywords() []Keyword { return append([]Keyword(nil), table...) }

// Lookup returns the keyword named name (any case), or nil.
func Lookup(name string) *Keyword {
	if k, ok := byName[name]; ok {
		return k
	}
	return byName[strings.ToLower(name)]
}

// opName ports lookup_opcode_name: the lower-case name sshd -T prints.
func opName(op opcode) string {
	if op >= 0 && int(op) < len(byOp) && byOp[op] != nil {
		return byOp[op].lower
	}
	return "UNKNOWN"
}
