package evidence

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Infinity is the time span systemd reads from "infinity": never.
const Infinity = time.Duration(math.MaxInt64)

// spanUnits are the units of systemd.time(7) for a span in seconds
// (parse_sec), in microseconds; longer names first where one is a prefix
// of another is not needed, since a unit ends at a blank or digit.
var spanUnits = map[string]float64{
	"us": 1, "usec": 1, "µs": 1, "μs": 1,
	"ms": 1e3, "msec": 1e3,
	"s": 1e6, "sec": 1e6, "second": 1e6, "seconds": 1e6,
	"m": 60e6, "min": 60e6, "minute": 60e6, "minutes": 60e6,
	"h": 3600e6, "hr": 3600e6, "hour": 3600e6, "hours": 3600e6,
	"d": 86400e6, "day": 86400e6, "days": 86400e6,
	"w": 604800e6, "week": 604800e6, "weeks": 604800e6,
	"M": 2629800e6, "month": 2629800e6, "months": 2629800e6,
	"y": 31557600e6, "year": 31557600e6, "years": 31557600e6,
}

// ParseTimespan reads a time span as systemd's parse_sec does: "infinity",
// a number of seconds ("600"), or numbers with units ("10min", "1h 30min",
// "1.5h", "2m30s"); a bare number after a unit is seconds ("1h30" is one
// hour and 30 seconds). It returns Infinity for "infinity".
func ParseTimespan(s string) (time.Duration, error) {
	s = strings.Trim(s, " \t\n")
	if s == "infinity" {
		return Infinity, nil
	}
	if s == "" {
		return 0, errors.New("empty time span")
	}
	var usec float64
	for s != "" {
		if s[0] == '-' {
			return 0, errors.New("negative time span")
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, errors.New("no number at " + strconv.Quote(s))
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || strings.Count(s[:i], ".") > 1 || strings.HasSuffix(s[:i], ".") && i == 1 {
			return 0, errors.New("bad number " + strconv.Quote(s[:i]))
		}
		s = strings.TrimLeft(s[i:], " \t")
		j := 0
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == ' ' || s[j] == '\t' || s[j] == '.') {
			j++
		}
		mult := 1e6 // a bare number is seconds
		if j > 0 {
			m, ok := spanUnits[s[:j]]
			if !ok {
				return 0, errors.New("unknown time unit " + strconv.Quote(s[:j]))
			}
			mult = m
		}
		usec += n * mult
		s = strings.TrimLeft(s[j:], " \t")
	}
	if usec >= float64(math.MaxInt64)/1e3 {
		return Infinity, nil
	}
	return time.Duration(usec) * time.Microsecond, nil
}
