package sshdconf

import "strings"

// algorithms holds what one sshd build supports and proposes by default:
// the lists `ssh -Q cipher|mac|kex|key-sig|sig` print for OpenSSH 9.2p1 with
// OpenSSL 3 (Debian 12), and the defaults of its myproposal.h.
type algorithms struct {
	cipher, mac, kex, gssKex, key, sig                   []string
	defCipher, defMAC, defKex, defKey, defSig, defGSSKex string
}

func split(s string) []string { return strings.Split(s, ",") }

// alg92 is the algorithm table of OpenSSH 9.2p1, built once; it is never
// written after.
var alg92 = openssh92()

// openssh92 builds the algorithm table of OpenSSH 9.2p1 (Debian 12).
func openssh92() *algorithms {
	a := &algorithms{
		cipher:    split("3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"),
		mac:       split("hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com"),
		kex:       split("diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com"),
		gssKex:    split("gss-gex-sha1-,gss-group1-sha1-,gss-group14-sha1-,gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,gss-curve25519-sha256-"),
		key:       split("ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com"),
		sig:       split("ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512"),
		defGSSKex: "gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,gss-curve25519-sha256-,gss-group14-sha1-,gss-gex-sha1-",
	}
	all := func(l []string) string { return strings.Join(l, ",") }
	a.defCipher = filterList("chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com", all(a.cipher), false)
	a.defMAC = filterList("umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1", all(a.mac), false)
	a.defKex = filterList("sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256", all(a.kex), false)
	a.defKey = filterList("ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256", all(a.key), false)
	a.defSig = filterList("ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256", all(a.sig), false)
	return a
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

// algorithmsFor returns the algorithm table of release r.
func algorithmsFor(r *Release) *algorithms {
	return alg92
}
