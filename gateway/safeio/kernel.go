package safeio

import (
	"strconv"
	"strings"
)

// kernelAtLeast reports whether a release string such as "6.1.0-18-amd64"
// is at least major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	num := func(s string) int {
		end := 0
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(s[:end])
		if err != nil {
			return -1
		}
		return n
	}
	ma, mi := num(parts[0]), num(parts[1])
	return ma > major || ma == major && mi >= minor
}
