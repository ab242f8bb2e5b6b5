package sshdconf

import "strings"

// algorithms holds what one sshd build supports and proposes by default:
// the names its cipher.c, mac.c, kex.c and sshkey.c know (with OpenSSL),
// in the order of their tables, and the defaults of its myproposal.h as
// its `sshd -T` prints them on an empty sshd_config.
type algorithms struct {
	cipher, mac, kex, gssKex, key, sig                   []string
	defCipher, defMAC, defKex, defKey, defSig, defGSSKex string
	// caret is whether a list may start with '^' (put these first):
	// OpenSSH 8.2 and later.
	caret bool
}

func split(s string) []string { return strings.Split(s, ",") }

// The lists that changed between releases, as the checked releases'
// sources and `sshd -T` (HostKeyAlgorithms *, CASignatureAlgorithms *,
// and an empty sshd_config) show them.
const (
	cipher92 = "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"
	// Before 8.5 cipher.c also knew rijndael-cbc@lysator.liu.se (8.4p1
	// has it, 8.7p1 does not).
	cipher80 = "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,rijndael-cbc@lysator.liu.se,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"
	mac92    = "hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com"
	kexDH    = "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521"
	kex80    = kexDH + ",curve25519-sha256,curve25519-sha256@libssh.org,sntrup4591761x25519-sha512@tinyssh.org"
	kex87    = kexDH + ",curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512@openssh.com"
	// Debian 12 backports the name without @openssh.com (9.9 has it).
	kex92  = kexDH + ",curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com"
	kex99  = kex92 + ",mlkem768x25519-sha256"
	kex105 = kexDH + ",mlkem768nistp256-sha256,curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,mlkem768x25519-sha256"

	key80  = "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,ssh-dss-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com"
	key82  = "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,ssh-dss-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com"
	key84  = "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,ssh-dss-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com"
	key92  = "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com"
	key99  = "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com"
	key105 = "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ssh-mldsa44-ed25519@openssh.com,ssh-mldsa44-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com"
	// 10.6 names ML-DSA keys without @openssh.com, and its certificate
	// without -v01@openssh.com.
	key106 = "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ssh-mldsa44-ed25519,ssh-mldsa44-ed25519-cert,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com"

	sig80  = "ssh-ed25519,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"
	sig82  = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com"
	sig84  = sig82 + ",webauthn-sk-ecdsa-sha2-nistp256@openssh.com"
	sig92  = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512"
	sig99  = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512"
	sig105 = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ssh-mldsa44-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512"
	sig106 = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ssh-mldsa44-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512"

	defCipher80  = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com"
	defCipher100 = "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"
	defMAC80     = "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1"
	defKexECDH   = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521"
	defKexDH     = "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
	defKex80     = defKexECDH + "," + defKexDH + ",diffie-hellman-group14-sha1"
	defKex82     = defKexECDH + "," + defKexDH
	defKex89     = defKexECDH + ",sntrup761x25519-sha512@openssh.com," + defKexDH
	defKex90     = "sntrup761x25519-sha512@openssh.com," + defKexECDH + "," + defKexDH
	defKex92     = "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com," + defKexECDH + "," + defKexDH
	defKex99     = "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,mlkem768x25519-sha256," + defKexECDH + "," + defKexDH
	defKex100    = "mlkem768x25519-sha256,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com," + defKexECDH

	defKey80  = "ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa"
	defKey82  = "ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,ssh-ed25519,sk-ssh-ed25519@openssh.com,rsa-sha2-512,rsa-sha2-256,ssh-rsa"
	defKey87  = "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256,ssh-rsa"
	defKey89  = "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"
	defKey105 = "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"
	defKey106 = "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-mldsa44-ed25519-cert,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256,ssh-mldsa44-ed25519"

	defSig80  = "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa"
	defSig82  = "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,ssh-ed25519,sk-ssh-ed25519@openssh.com,rsa-sha2-512,rsa-sha2-256"
	defSig87  = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"
	defSig105 = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"

	// Debian's GSSAPI key exchange patch.
	gssKex    = "gss-gex-sha1-,gss-group1-sha1-,gss-group14-sha1-,gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,gss-curve25519-sha256-"
	defGSSKex = "gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,gss-curve25519-sha256-,gss-group14-sha1-,gss-gex-sha1-"
)

// algorithmsFor returns the algorithm table of release r: what its
// sources list, and the defaults its `sshd -T` prints. A version between
// the checked ones takes the lists of the newest checked one before it.
func algorithmsFor(r *Release) *algorithms {
	pick := func(byVersion ...string) string {
		// byVersion: "8.0", list, "8.2", list, ... oldest first.
		v := byVersion[1]
		for i := 0; i+1 < len(byVersion); i += 2 {
			if r.AtLeast(byVersion[i]) {
				v = byVersion[i+1]
			}
		}
		return v
	}
	a := &algorithms{
		cipher:    split(pick("8.0", cipher80, "8.5", cipher92)),
		mac:       split(mac92),
		kex:       split(pick("8.0", kex80, "8.5", kex87, "9.0", kex87, "9.9", kex99, "10.5", kex105)),
		key:       split(pick("8.0", key80, "8.2", key82, "8.4", key84, "9.0", key92, "9.8", key99, "10.5", key105, "10.6", key106)),
		sig:       split(pick("8.0", sig80, "8.2", sig82, "8.4", sig84, "9.0", sig92, "9.8", sig99, "10.5", sig105, "10.6", sig106)),
		defCipher: pick("8.0", defCipher80, "10.0", defCipher100),
		defMAC:    defMAC80,
		defKex:    pick("8.0", defKex80, "8.2", defKex82, "8.9", defKex89, "9.0", defKex90, "9.9", defKex99, "10.0", defKex100),
		defKey:    pick("8.0", defKey80, "8.2", defKey82, "8.7", defKey87, "8.8", defKey89, "10.5", defKey105, "10.6", defKey106),
		defSig:    pick("8.0", defSig80, "8.2", defSig82, "8.7", defSig87, "10.5", defSig105),
		caret:     r.AtLeast("8.2"),
	}
	if r.debian && r.AtLeast("9.0") && r.Before("9.9") {
		// Debian 12 carries the name 9.9 gave sntrup761x25519-sha512.
		a.kex = split(kex92)
		a.defKex = defKex92
	}
	if r.debian && r.gssapi {
		a.gssKex = split(gssKex)
		a.defGSSKex = defGSSKex
	}
	return a
}

// names is the list of an algorithm keyword's argument that sshd checks:
// without its leading '+' (or '^', from 8.2 on).
func (a *algorithms) names(arg string) string {
	if arg != "" && (arg[0] == '+' || a.caret && arg[0] == '^') {
		return arg[1:]
	}
	return arg
}

// filterList ports filter_list: the proposal's entries that match (allow) or
// do not match (deny) the pattern-list filter, in the proposal's order.
func filterList(proposal, filter string, deny bool) string {
	var out []string
	for _, cp := range strings.Split(proposal, ",") {
		r := matchPatternList(cp, filter, false)
		if (deny && r != 1) || (!deny && r == 1) {
			out = append(out, cp)
		}
	}
	return strings.Join(out, ",")
}

// namesCat ports kex_names_cat: a, then the names of b not already in it.
func namesCat(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	ret := a
	for _, p := range strings.Split(b, ",") {
		if p == "" {
			break
		}
		if hasAnyAlg(ret, p) {
			continue
		}
		ret += "," + p
	}
	return ret
}

// hasAnyAlg ports has_any_alg: proposal holds a name of the list algs.
func hasAnyAlg(proposal, algs string) bool {
	for _, a := range strings.Split(algs, ",") {
		if a == "" {
			break
		}
		if matchList(a, proposal) {
			return true
		}
	}
	return false
}

func matchList(name, list string) bool {
	for _, p := range strings.Split(list, ",") {
		if p == "" {
			break
		}
		if p == name {
			return true
		}
	}
	return false
}

// assembleNames ports kex_assemble_names. ok is false where sshd fails
// (an empty result, or a negated pattern in a list).
func assembleNames(list string, set bool, def string, all []string) (string, bool) {
	if !set || list == "" {
		return def, true
	}
	switch list[0] {
	case '+':
		list = namesCat(def, list[1:])
	case '-':
		return filterList(def, list[1:], true), true
	case '^':
		list = namesCat(list[1:], def)
	}
	ret := ""
	for _, cp := range strings.Split(list, ",") {
		if strings.HasPrefix(cp, "!") {
			return "", false
		}
		if !strings.ContainsAny(cp, "*?") {
			// A name without wildcards matches only itself: filter_list
			// keeps it when the build supports it.
			if contains(all, cp) {
				ret = namesCat(ret, cp)
			}
			continue
		}
		ret = namesCat(ret, filterList(strings.Join(all, ","), cp, false))
	}
	if ret == "" {
		return "", false
	}
	return ret, true
}

// assemble ports assemble_algorithms. It returns the message sshd dies
// with when a list cannot be assembled, or "".
func (a *algorithms) assemble(o *options) string {
	failed := ""
	do := func(s *sval, name, def string, all []string) {
		v, ok := assembleNames(s.v, s.set, def, all)
		if !ok && failed == "" {
			failed = "assemble_algorithms: " + name + ": invalid argument"
		}
		if !s.set || s.v == "" {
			*s = sval{v: v, set: true, pos: s.pos}
			return
		}
		s.v = v
	}
	do(&o.ciphers, "ciphers", a.defCipher, a.cipher)
	do(&o.macs, "macs", a.defMAC, a.mac)
	do(&o.kexAlgorithms, "kex_algorithms", a.defKex, a.kex)
	do(&o.hostKeyAlgorithms, "hostkeyalgorithms", a.defKey, a.key)
	do(&o.hostbasedAcceptedAlgos, "hostbased_accepted_algos", a.defKey, a.key)
	do(&o.pubkeyAcceptedAlgos, "pubkey_accepted_algos", a.defKey, a.key)
	do(&o.caSignAlgorithms, "ca_sign_algorithms", a.defSig, a.sig)
	return failed
}

// eachName calls fn for each comma-separated name of names up to the first
// empty one (the strsep loops of sshd's *_valid functions stop there).
func eachName(names string, fn func(string) bool) bool {
	if names == "" {
		return false
	}
	for _, p := range strings.Split(names, ",") {
		if p == "" {
			break
		}
		if !fn(p) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (a *algorithms) ciphersValid(s string) bool {
	return eachName(s, func(p string) bool { return contains(a.cipher, p) })
}

func (a *algorithms) macsValid(s string) bool {
	return eachName(s, func(p string) bool { return contains(a.mac, p) })
}

func (a *algorithms) kexByName(p string) bool {
	if contains(a.kex, p) {
		return true
	}
	for _, g := range a.gssKex {
		if strings.HasPrefix(p, g) {
			return true
		}
	}
	return false
}

func (a *algorithms) kexValid(s string) bool { return eachName(s, a.kexByName) }

func (a *algorithms) gssKexValid(s string) bool {
	return eachName(s, func(p string) bool { return strings.HasPrefix(p, "gss-") && a.kexByName(p) })
}

// keyNamesValid ports sshkey_names_valid2(names, allow_wildcard=1).
func (a *algorithms) keyNamesValid(s string) bool {
	return eachName(s, func(p string) bool {
		if contains(a.key, p) {
			return true
		}
		for _, k := range a.key {
			if matchPatternList(k, p, false) != 0 {
				return true
			}
		}
		return false
	})
}
