package sshdconf

// GlobMatch reports whether name, one component of a path, matches
// pattern, the same component of an Include pattern, as glob(3) does it
// for sshd: a component without magic characters is the name itself
// (after removing its backslashes); one with them is matched by
// fnmatch(3) with FNM_PERIOD, so a name starting with '.' needs a
// pattern starting with '.'.
func GlobMatch(pattern, name string) bool {
	if !hasMagic(pattern) {
		return unescape(pattern) == name
	}
	return fnmatch(pattern, name)
}
