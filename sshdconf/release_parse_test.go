package sshdconf_test

import (
	"strings"
	"testing"

	"github.com/sshwarden/sshwarden/sshdconf"
	"github.com/sshwarden/sshwarden/sshdconf/internal/memfs"
)

// TestReleaseParsing checks, without an sshd, what each release accepts,
// refuses and which value wins, for the cases where releases differ. Every
// row was measured with that release's sshd (TestReleasesRandomTreesAgainstSSHD
// and TestReleasesCorpusAgainstSSHD compare them all on generated trees).
func TestReleaseParsing(t *testing.T) {
	const spec = "user=alice,host=h,addr=10.1.2.3,laddr=127.0.0.1,lport=22"
	for _, c := range []struct {
		release, config string
		err             string // sshd's last message, "" when accepted
		key, want       string // a value sshd -T -C spec prints
	}{
		// Keywords and where Match allows them.
		{"8.7p1", "ChannelTimeout session=1m\n", "/etc/ssh/sshd_config: terminating, 1 bad configuration options", "", ""},
		{"9.2-debian", "ChannelTimeout session=1m\n", "", "channeltimeout", "session=1m"},
		{"8.4p1", "ModuliFile /etc/ssh/moduli\n", "/etc/ssh/sshd_config: terminating, 1 bad configuration options", "", ""},
		{"8.7p1", "ModuliFile /etc/ssh/moduli\n", "", "", ""},
		{"9.2-debian", "Match User alice\n Subsystem sftp internal-sftp\n", "/etc/ssh/sshd_config line 2: Directive 'Subsystem' is not allowed within a Match block", "", ""},
		{"9.6p1", "Subsystem sftp /x\nMatch User alice\n Subsystem sftp internal-sftp\n", "", "subsystem", "sftp internal-sftp "},
		{"9.9p2", "Subsystem sftp /x\nSubsystem sftp /y\n", "", "subsystem", "sftp /x"},
		{"10.2p1", "Subsystem sftp /x\nSubsystem sub1 /w\nMatch User alice\n Subsystem sub3 /z\n", "", "subsystem", "sub3 /z"},
		{"8.2p1", "Match User alice\n IgnoreRhosts no\n", "/etc/ssh/sshd_config line 2: Directive 'IgnoreRhosts' is not allowed within a Match block", "", ""},
		{"8.4p1", "Match User alice\n IgnoreRhosts no\n", "", "ignorerhosts", "no"},
		{"10.6-debian", "GSSAPIAuthentication yes\nKbdInteractiveAuthentication no\n", "", "kbdinteractiveauthentication", "no"},
		{"10.6-debian", "GSSAPIKeyExchange yes\n", "/etc/ssh/sshd_config: terminating, 1 bad configuration options", "", ""},
		{"10.0-debian", "GSSAPIKeyExchange yes\n", "", "gssapikeyexchange", "yes"},
		{"10.5p1", "PAMAuthenticationViaKbdInt yes\n", "/etc/ssh/sshd_config: terminating, 1 bad configuration options", "", ""},
		// ChallengeResponseAuthentication before 8.7: its own keyword, on
		// by default, which turns KbdInteractiveAuthentication on.
		{"8.4p1", "KbdInteractiveAuthentication no\n", "", "kbdinteractiveauthentication", "yes"},
		{"8.4p1", "ChallengeResponseAuthentication no\n", "", "kbdinteractiveauthentication", "no"},
		{"8.7p1", "KbdInteractiveAuthentication no\n", "", "kbdinteractiveauthentication", "no"},
		// Match criteria.
		{"9.6p1", "Match Invalid-User\n X11Forwarding yes\n", "/etc/ssh/sshd_config line 1: Bad Match condition", "", ""},
		{"9.9p2", "Match Invalid-User\n X11Forwarding yes\n", "", "x11forwarding", "no"},
		{"9.9p2", "Match User=alice\n X11Forwarding yes\n", "", "x11forwarding", "yes"},
		{"9.9p2", "Match Version OpenSSH_10*\n X11Forwarding yes\n", "/etc/ssh/sshd_config line 1: Bad Match condition", "", ""},
		{"10.0-debian", "Match Version OpenSSH_10.0p2*\n X11Forwarding yes\n", "", "x11forwarding", "yes"},
		{"10.2p1", "Match Version OpenSSH_10.0*\n X11Forwarding yes\n", "", "x11forwarding", "no"},
		// Value syntax: quotes and comments before 8.7, IPQoS numbers.
		{"8.4p1", "X11Forwarding 'yes'\n", `/etc/ssh/sshd_config line 1: unsupported option "'yes'".`, "", ""},
		{"8.7p1", "X11Forwarding 'yes'\n", "", "x11forwarding", "yes"},
		{"8.4p1", "X11Forwarding yes no\n", `/etc/ssh/sshd_config line 1: garbage at end of line; "no".`, "", ""},
		{"8.4p1", "MaxAuthTries 4#0\n", "", "maxauthtries", "4"},
		{"9.6p1", "IPQoS 0x20\n", "", "ipqos", "cs1 cs1"},
		{"9.9p2", "IPQoS 0x20\n", "/etc/ssh/sshd_config line 1: Bad IPQoS value: 0x20", "", ""},
		{"10.0-debian", "IPQoS lowdelay af21\n", "", "ipqos", "none af21"},
		{"9.6p1", "CASignatureAlgorithms ssh-ed25519-cert-v01@openssh.com\n", "/etc/ssh/sshd_config line 1: Bad key types 'ssh-ed25519-cert-v01@openssh.com'.", "", ""},
		{"9.6p1", "ChannelTimeout session=1m none\n", "", "channeltimeout", "session=1m none"},
		{"9.9p2", "ChannelTimeout session=1m none\n", "/etc/ssh/sshd_config: terminating, 1 bad configuration options", "", ""},
		{"9.2-debian", "AuthorizedKeysCommand /bin/a\nAuthorizedKeysCommandUser nobody\nAuthorizedPrincipalsCommand /bin/b\nAuthorizedPrincipalsCommandUser nobody\n", "", "authorizedprincipalscommand", "none"},
		{"9.6p1", "AuthorizedKeysCommand /bin/a\nAuthorizedKeysCommandUser nobody\nAuthorizedPrincipalsCommand /bin/b\nAuthorizedPrincipalsCommandUser nobody\n", "", "authorizedprincipalscommand", "/bin/b"},
		// (sshd -t accepts it: the first pass does not read line 2.)
		{"8.4p1", "AuthenticationMethods publickey\nAuthenticationMethods any bogus\n", `reprocess config line 2: "any" must appear alone in AuthenticationMethods`, "", ""},
		{"8.4p1", "AuthenticationMethods publickey\nAuthenticationMethods any\n", "", "authenticationmethods", "publickey"},
		{"9.6p1", "AuthenticationMethods publickey\nAuthenticationMethods any\n", `/etc/ssh/sshd_config line 2: "any" must appear alone in AuthenticationMethods`, "", ""},
		{"9.9p2", "AuthenticationMethods publickey\nAuthenticationMethods any\n", "", "authenticationmethods", "publickey"},
		{"8.2p1", "IPQoS \"cs1\"\n", "/etc/ssh/sshd_config line 1: Bad IPQoS value: ", "", ""},
		{"8.2p1", "ClientAliveInterval 5m30s\n", "", "clientaliveinterval", "2100"},
		{"8.4p1", "SetEnv A=1\nMatch User alice\n SetEnv B=2\n", "", "setenv", "A=1"},
		{"8.7p1", "SetEnv A=1\nMatch User alice\n SetEnv B=2\n", "", "setenv", "B=2"},
		{"8.4p1", "IPQoS\n", "/etc/ssh/sshd_config line 1: Bad IPQoS value: (null)", "", ""},
		{"8.4p1", "PermitOpen\n", "/etc/ssh/sshd_config line 1: missing permitopen specification", "", ""},
		{"8.4p1", "ForceCommand\n", "/etc/ssh/sshd_config line 1: Missing argument.", "", ""},
		{"8.7p1", "ForceCommand\n", `/etc/ssh/sshd_config: terminating, 1 bad configuration options`, "", ""},
		// Times.
		{"8.2p1", "ClientAliveInterval 1h30\n", "", "clientaliveinterval", "111600"},
		{"8.4p1", "ClientAliveInterval 1h30\n", "", "clientaliveinterval", "3630"},
		{"9.6p1", "ClientAliveInterval +30\n", "", "clientaliveinterval", "30"},
		{"10.2p1", "ClientAliveInterval +30\n", "/etc/ssh/sshd_config line 1: invalid time value.", "", ""},
		{"10.2p1", "ClientAliveInterval 1.5\n", "/etc/ssh/sshd_config line 1: invalid time value.", "", ""},
		{"10.5p1", "ClientAliveInterval 1.5\n", "", "clientaliveinterval", "1"},
		{"10.5p1", "ClientAliveInterval 1s1s\n", "/etc/ssh/sshd_config line 1: invalid time value.", "", ""},
		// Which value wins.
		{"10.0-debian", "MaxStartups 5:30:50\nMaxStartups 20:30:80\n", "", "maxstartups", "20:30:80"},
		{"10.2p1", "MaxStartups 5:30:50\nMaxStartups 20:30:80\n", "", "maxstartups", "5:30:50"},
		{"9.2-debian", "PerSourceMaxStartups 5\nPerSourceMaxStartups 7\n", "", "persourcemaxstartups", "7"},
		{"9.6p1", "PerSourceMaxStartups 5\nPerSourceMaxStartups 7\n", "", "persourcemaxstartups", "5"},
		{"10.2p1", "IPQoS af11\nIPQoS cs1 cs2\n", "", "ipqos", "cs1 cs2"},
		// 8.2's relative Include reads SSHDIR/Include.
		{"8.2p1", "Include sshd_config.d/*.conf\n", "", "", ""},
		// 8.2 adds port 22 at the end of an included file read before
		// any Port line.
		{"8.2p1", "Include /etc/ssh/sshd_config.d/a.conf\nPort 2200\n", "", "port", "22"},
		{"8.4p1", "Include /etc/ssh/sshd_config.d/a.conf\nPort 2200\n", "", "port", "2200"},
	} {
		r := sshdconf.MustRelease(c.release)
		files := map[string][]byte{"/etc/ssh/sshd_config": []byte(c.config), "/etc/ssh/sshd_config.d/a.conf": []byte("X11Forwarding yes\n")}
		cfg, err := sshdconf.Load(memfs.New(files), "/etc/ssh/sshd_config", &sshdconf.LoadOptions{Release: r})
		if err != nil {
			t.Fatalf("%s %q: Load: %v", c.release, c.config, err)
		}
		cs, _ := sshdconf.ParseConnSpec(spec)
		eff, err := cfg.Effective(cs)
		got := ""
		if err != nil {
			got = err.(sshdconf.Diag).SSHD
		}
		if got != c.err {
			t.Errorf("%s %q: sshd says %q, the model %q", c.release, c.config, c.err, got)
			continue
		}
		// The keyword compared without case: 10.5 on print mixed case.
		value := func(key string) string {
			for _, s := range eff.Settings {
				if strings.EqualFold(s.Keyword, key) {
					return s.Value
				}
			}
			return ""
		}
		if err == nil && c.key != "" {
			if v := value(c.key); v != c.want {
				t.Errorf("%s %q: %s %q, want %q", c.release, c.config, c.key, v, c.want)
			}
		}
		if c.config == "Include sshd_config.d/*.conf\n" && value("x11forwarding") != "no" {
			t.Errorf("8.2p1 %q: x11forwarding %q: the relative Include read a drop-in", c.config, value("x11forwarding"))
		}
	}
}
