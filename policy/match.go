package policy

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"mugai/policy/strictyaml"
)

// matchAddress reports whether addr matches one of the patterns. A
// pattern with "@" is matched against the whole address ("*@example.jp",
// "taro@example.jp"); one without is matched against the domain
// ("example.lg.jp", "*.lg.jp"). "<>" matches the null sender. Matching is
// case-insensitive; "*" and "?" work as in path.Match ('.' is ordinary).
func matchAddress(patterns List, addr string) bool {
	addr = strings.ToLower(addr)
	for _, p := range patterns {
		p = strings.ToLower(p)
		switch {
		case p == "<>":
			if addr == "" {
				return true
			}
		case addr == "":
		case strings.Contains(p, "@"):
			if ok, _ := path.Match(p, addr); ok {
				return true
			}
		default:
			_, domain, _ := strings.Cut(addr, "@")
			if ok, _ := path.Match(p, domain); ok {
				return true
			}
		}
	}
	return false
}

// matchRecipients is true when every recipient matches: the rebuilt
// message goes to all of them alike, so a rule that relaxes the handling
// for some recipients must not reach the others.
func matchRecipients(patterns List, rcpts []string) bool {
	if len(rcpts) == 0 {
		return false
	}
	for _, r := range rcpts {
		if !matchAddress(patterns, r) {
			return false
		}
	}
	return true
}

func validateAddressPatterns(key string, patterns List, line int, where string, errs *strictyaml.Error) {
	for _, p := range patterns {
		switch {
		case p == "<>":
		case p == "" || strings.ContainsAny(p, " <>\"\\,;"):
			errs.Add(line, where, "match.%s %q must be an address or domain pattern such as *@example.lg.jp or *.lg.jp", key, p)
		case strings.Count(p, "@") > 1:
			errs.Add(line, where, "match.%s %q has more than one @", key, p)
		default:
			if _, err := path.Match(p, ""); err != nil {
				errs.Add(line, where, "match.%s %q is not a valid pattern", key, p)
			}
		}
	}
}

// ParseByteSize parses a size in bytes, written as a number or with a
// unit: 500, 10KB, 10KiB, 5MB, 5MiB, 1GB (KB=1000, KiB=1024).
func ParseByteSize(s string) (int64, error) {
	orig := s
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (a number of bytes, or with KB, KiB, MB, MiB, GB, GiB)", orig)
	}
	return v * mult, nil
}

// SizeRange selects parts by decoded size; an unset bound is open. The
// bounds are kept as written and parsed when the policy is validated, so a
// bad one is reported with its line like every other problem.
type SizeRange struct {
	Min string `yaml:"min"`
	Max string `yaml:"max"`

	min, max int64 // parsed; max < 0 means none
}

func (r *SizeRange) set() bool { return r.Min != "" || r.Max != "" }

func (r *SizeRange) contains(n int64) bool {
	return n >= r.min && (r.max < 0 || n <= r.max)
}

// parse fills the parsed bounds and reports what is wrong with them.
func (r *SizeRange) parse() []string {
	var problems []string
	r.min, r.max = 0, -1
	if r.Min != "" {
		v, err := ParseByteSize(r.Min)
		if err != nil {
			problems = append(problems, "match.size.min: "+err.Error())
		}
		r.min = v
	}
	if r.Max != "" {
		v, err := ParseByteSize(r.Max)
		if err != nil {
			problems = append(problems, "match.size.max: "+err.Error())
		}
		r.max = v
	}
	if len(problems) == 0 && r.max >= 0 && r.min > r.max {
		problems = append(problems, fmt.Sprintf("match.size: min %d is above max %d", r.min, r.max))
	}
	return problems
}

func (r SizeRange) String() string {
	lo, hi := "0", "∞"
	if r.Min != "" {
		lo = r.Min
	}
	if r.Max != "" {
		hi = r.Max
	}
	return lo + "–" + hi
}
