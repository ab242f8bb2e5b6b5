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
// not; [Line.SetArgs] re-renders only the line it edits. The tree is read
// through methods ([File.Lines], [Line.Text], [Line.Args], ...), so that
// no caller can put a line's text out of step with the offsets of its
// parts. [Parsed] evaluates parsed (and edited) files as [Load] would read
// them.
//
// # Reading like sshd
//
// [Load] reads a main file and every file its Include lines name, through an
// [io/fs.FS] rooted at "/" (so --root and tests need no real /etc), within a
// budget (see Budget), and runs
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
// # Reading a tree as "/" (--root)
//
// [DirFS]("/") reads the host as sshd does. [OpenRoot] reads a directory
// tree as if it were "/", with chroot semantics: every name, every symbolic
// link (an absolute target is a path in the tree) and every ".." is
// resolved inside the tree, so that a hostile tree (a link to /etc/shadow,
// "Include ../../../../etc/shadow") cannot make a command read, or print, a
// file outside it. The resolver is the kernel's, openat2(2) with
// RESOLVE_IN_ROOT, at the cost of open(2); where the kernel refuses openat2
// it is github.com/cyphar/filepath-securejoin's pathrs-lite, which emulates
// it. [os.Root] was not used: it refuses links that leave the tree rather
// than re-rooting them, as a chroot does. [RootFS.OpenFile] gives writers
// the same resolution.
//
// # Budget
//
// sshd reads whatever it is given, and some small configurations take it,
// and a model of it, for ever: five files that each include the five (5^16
// inclusions), a glob such as "*a*a*a...b", a Match line of 10,000
// criteria. [Load] bounds the work of a load with a budget ([LoadOptions]
// MaxFiles, MaxBytes, MaxLines, MaxMatchCriteria; defaults
// [DefaultMaxFiles] and the like), counting each inclusion of a file
// again, and stops with a [*BudgetError] naming the line where it ran out,
// unless sshd would have stopped before (then the configuration is
// refused, with sshd's own error). Every later pass reads no more than the
// first. Glob patterns are matched in time proportional to the pattern's
// length times the name's, tokens are split in time proportional to their
// own length, a Config keeps at most a thousand diagnostics, and a load
// allocates about 20 to 50 bytes per byte of input (see memory_test.go).
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
