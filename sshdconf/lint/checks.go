package lint

// Checks returns every check, in the order they run.
func Checks() []*Check {
	return []*Check{
		sshdRefuses(),
		deprecated(),
		overridden(),
		clientAliveCountMaxZero(),
		clientAliveNotIdle(),
		channelTimeoutSession(),
		channelTimeoutAlone(),
		channelTimeoutInMatch(),
		globalInMatch(),
		includeNoMatch(),
		includeSkipped(),
		filePermissions(),
		policy(),
	}
}

// Lookup returns the check named name, or nil.
func Lookup(name string) *Check {
	for _, c := range Checks() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
