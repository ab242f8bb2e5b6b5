// Package sshdconf reads OpenSSH's sshd_config exactly as sshd reads it, and
// keeps every byte of it so that it can be edited without losing comments or
// layout.
//
// # Syntax
//
// [Parse] builds a lossless [File]: one [Line] per physical line, each
// keeping its text, with the indent, keyword, separator (blanks or '='),
// arguments (with their quotes) and trailing comment located in it.
// [File.Bytes] gives the input back byte for byte, for any input, valid or
// not; [Line.SetArgs] re-renders only the line it edits.
//
// # Reading like sshd
//
// [Load] reads a main file and every file its Include lines name, through an
// [io/fs.FS] rooted at "/" (so --root and tests need no real /etc), and runs
// sshd's first pass: global values, defaults, and a syntax check of Match
// blocks. [Config.Effective] runs the second pass for a [ConnSpec] and
// returns the [Setting]s `sshd -T -C ...` prints, each with the [Pos] that
// set it. The code ports OpenSSH 9.2p1 as Debian 12 builds it (servconf.c,
// misc.c, match.c, addrmatch.c): its tokenisers, value parsers, the
// first-value-wins rule and its exceptions (MaxStartups, IPQoS,
// PerSourceMaxStartups, PerSourceNetBlockSize, StreamLocalBindMask and
// FingerprintHash keep the last value; "UnusedConnectionTimeout none" always
// wins), Include with glob(3) order and a depth of 16, and the rule that a
// Match block ends with the file it opens in. Problems come as [Diag]s with
// sshd's own message and the position sshd names.
//
// # Keywords
//
// [Keywords] describes every keyword: type, default, whether Match allows
// it, how repeated lines combine, and the release that added or deprecated
// it. Keywords newer than 9.2 are known but refused, as sshd 9.2 refuses
// them.
//
// See sshd_config(5) and sshd(8) (-T, -C).
package sshdconf
