package strictyaml

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// SizeSyntax and DurationSyntax say what a size and a duration may be
// written as; every error about one ends with them.
const (
	SizeSyntax     = "a number of bytes, or with KB, KiB, MB, MiB, GB, GiB, TB, TiB"
	DurationSyntax = "such as 30s, 5m, 2h, 1h30m, or whole days: 90d"
)

// sizeUnits are the units a size may carry, longest suffix first so that
// "KiB" is not read as "B".
var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}

// ParseSize parses a size in bytes, written as a number or with a unit:
// 500, 10KB, 10KiB, 5MB, 25MiB, 1GB (KB=1000, KiB=1024), a space allowed
// before the unit.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (%s)", s, SizeSyntax)
	}
	return v * mult, nil
}

// ParseDuration parses a Go duration (30s, 5m, 2h, 1h30m) or whole days
// (90d).
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(t, "d"); ok {
		v, err := strconv.ParseInt(days, 10, 64)
		if err == nil && v >= -106751 && v <= 106751 && !strings.HasPrefix(days, "+") {
			return time.Duration(v) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(t); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a duration (%s)", s, DurationSyntax)
}

// Size is a number of bytes, written in YAML as a plain number or with a
// unit (ParseSize). JSON keeps it a plain number.
type Size int64

// UnmarshalYAML parses a size; the error says what is accepted.
func (z *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a size (%s)", n.Line, SizeSyntax)
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*z = Size(v)
	return nil
}

// MarshalYAML writes the size with the largest unit that divides it
// exactly (25MiB, 1GB), else as bytes: what `mugai config check` prints.
func (z Size) MarshalYAML() (any, error) { return z.String(), nil }

func (z Size) String() string {
	v := int64(z)
	if v <= 0 {
		return strconv.FormatInt(v, 10)
	}
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"TB", 1e12}, {"GiB", 1 << 30}, {"GB", 1e9}, {"MiB", 1 << 20}, {"MB", 1e6}, {"KiB", 1 << 10}, {"KB", 1e3}} {
		if v%u.mult == 0 {
			return strconv.FormatInt(v/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(v, 10)
}

// Duration is a time.Duration written in YAML as a Go duration or whole
// days (ParseDuration). JSON and text keep Go's form (720h0m0s).
type Duration time.Duration

// UnmarshalYAML parses a duration; the error says what is accepted.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration (%s)", n.Line, DurationSyntax)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes Go's form, for JSON (the effective-config log line).
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// MarshalYAML writes the duration as an admin would: 30d, 5m, 1h30m.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String is the short form: whole days as 90d, else Go's form without
// trailing zero units (5m, not 5m0s).
func (d Duration) String() string {
	v := time.Duration(d)
	if v != 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	s := v.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
