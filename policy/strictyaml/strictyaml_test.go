package strictyaml

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type testInner struct {
	Port    int      `yaml:"port"`
	Hosts   []string `yaml:"hosts"`
	On      bool     `yaml:"on"`
	Timeout Duration `yaml:"timeout"`
	Max     Size     `yaml:"max"`
}

type testConfig struct {
	Name   string               `yaml:"name"`
	Inner  testInner            `yaml:"inner"`
	Items  []testInner          `yaml:"items"`
	ByName map[string]testInner `yaml:"by_name"`
	Ptr    *int                 `yaml:"ptr"`
}

func decodeTest(t *testing.T, src string) (testConfig, *Error) {
	t.Helper()
	cfg := testConfig{Name: "default", Inner: testInner{Port: 25, Hosts: []string{"a"}, Timeout: Duration(time.Minute), Max: 1000}}
	_, err := Decode("c.yaml", []byte(src), &cfg)
	if err == nil {
		return cfg, nil
	}
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	return cfg, se
}

// TestDecodeProblems: every problem of a document is reported in one pass,
// each with its line and key path.
func TestDecodeProblems(t *testing.T) {
	src := `name: x
inner:
  port: four
  hosts: nope
  on: maybe
  timeout: soon
  max: lots
  colour: red
items:
  - port: 1
  - port: [2]
by_name:
  a: {port: x}
ptr: y
name: again
`
	_, se := decodeTest(t, src)
	if se == nil {
		t.Fatal("no error")
	}
	want := []string{
		`c.yaml:3: inner.port: expected a whole number, got "four"`,
		`c.yaml:4: inner.hosts: expected a list, got "nope"`,
		`c.yaml:5: inner.on: expected true or false, got "maybe"`,
		`c.yaml:6: inner.timeout: "soon" is not a duration (such as 30s, 5m, 2h, 1h30m, or whole days: 90d)`,
		`c.yaml:7: inner.max: "lots" is not a size (a number of bytes, or with KB, KiB, MB, MiB, GB, GiB, TB, TiB)`,
		`c.yaml:8: inner.colour: unknown key (known keys here: hosts, max, on, port, timeout)`,
		`c.yaml:11: items[1].port: expected a whole number, got a list`,
		`c.yaml:13: by_name.a.port: expected a whole number, got "x"`,
		`c.yaml:14: ptr: expected a whole number, got "y"`,
		`c.yaml:15: name: duplicate key (first on line 1)`,
	}
	got := strings.Split(se.Error(), "\n")
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDecodeValues(t *testing.T) {
	tests := []struct {
		name, src string
		check     func(testConfig) bool
	}{
		// absent keys keep the defaults the caller put in
		{"defaults kept", "inner:\n  port: 26\n", func(c testConfig) bool {
			return c.Name == "default" && c.Inner.Port == 26 && slices.Equal(c.Inner.Hosts, []string{"a"}) && c.Inner.Timeout.D() == time.Minute
		}},
		{"empty document", "", func(c testConfig) bool { return c.Name == "default" && c.Inner.Port == 25 }},
		{"null empties a list, keeps a struct", "inner:\n  hosts:\nitems:\n", func(c testConfig) bool {
			return c.Inner.Hosts == nil && c.Inner.Port == 25
		}},
		// sizes and durations
		{"size units", "inner:\n  max: 25MiB\nitems: [{max: 25MB}, {max: 512KiB}, {max: 123}, {max: 1 GiB}]\n", func(c testConfig) bool {
			return c.Inner.Max == 25<<20 && c.Items[0].Max == 25e6 && c.Items[1].Max == 512<<10 && c.Items[2].Max == 123 && c.Items[3].Max == 1<<30
		}},
		{"duration days", "inner:\n  timeout: 90d\nitems: [{timeout: 1h30m}]\n", func(c testConfig) bool {
			return c.Inner.Timeout.D() == 90*24*time.Hour && c.Items[0].Timeout.D() == 90*time.Minute
		}},
		// anchors and aliases decode like the values they name
		{"alias", "inner: &i {port: 7}\nitems: [*i, *i]\n", func(c testConfig) bool {
			return len(c.Items) == 2 && c.Items[1].Port == 7
		}},
		{"map and pointer", "by_name: {x: {port: 3}}\nptr: 4\n", func(c testConfig) bool {
			return c.ByName["x"].Port == 3 && c.Ptr != nil && *c.Ptr == 4
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, se := decodeTest(t, tc.src)
			if se != nil {
				t.Fatal(se)
			}
			if !tc.check(c) {
				t.Errorf("decoded %+v", c)
			}
		})
	}
}

func TestDecodeShapes(t *testing.T) {
	tests := []struct{ src, want string }{
		{"hello\n", `c.yaml:1: expected a mapping (key: value lines), got "hello"`},
		{"inner: [1]\n", `c.yaml:1: inner: expected a mapping (key: value lines), got a list`},
		{"name: {a: 1}\n", `c.yaml:1: name: expected a single value (text), got a mapping`},
		{"inner:\n  max: [1]\n", `c.yaml:2: inner.max: expected a size (a number of bytes`},
		{"inner:\n  max: -1\n", `c.yaml:2: inner.max: "-1" is not a size`},
		{"inner:\n  <<: {port: 1}\n", `c.yaml:2: inner.<<: merge keys (<<) are not supported`},
		{"? [a]\n: 1\n", `c.yaml:1: a key must be a plain value, not a list`},
		{"a: &x [*x]\n", `c.yaml:1: `},                                // yaml.v3 or the decoder refuses a value holding itself
		{"name: [\n", `c.yaml:1: did not find expected node content`}, // not YAML: the parser's own message
	}
	for _, tc := range tests {
		_, se := decodeTest(t, tc.src)
		if se == nil || !strings.HasPrefix(se.Error(), tc.want) {
			t.Errorf("%q: error %v, want prefix %q", tc.src, se, tc.want)
		}
	}
}

func TestUnits(t *testing.T) {
	sizes := []struct {
		in   string
		want int64 // -1: an error
	}{
		{"0", 0}, {"500", 500}, {"500B", 500}, {"10KB", 10e3}, {"10KiB", 10 << 10}, {"25 MiB", 25 << 20},
		{"2TB", 2e12}, {"1TiB", 1 << 40}, {"", -1}, {"MiB", -1}, {"1.5MiB", -1}, {"-1", -1}, {"25mb", -1}, {"9999999999TiB", -1},
	}
	for _, tc := range sizes {
		got, err := ParseSize(tc.in)
		if tc.want < 0 && err == nil || tc.want >= 0 && (err != nil || got != tc.want) {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	durations := []struct {
		in   string
		want time.Duration // -1: an error
	}{
		{"30s", 30 * time.Second}, {"1h30m", 90 * time.Minute}, {"90d", 90 * 24 * time.Hour}, {"0d", 0},
		{"1.5d", -1}, {"d", -1}, {"+5d", -1}, {"5", -1}, {"soon", -1}, {"999999999d", -1},
	}
	for _, tc := range durations {
		got, err := ParseDuration(tc.in)
		if tc.want == -1 && err == nil || tc.want != -1 && (err != nil || got != tc.want) {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	// What config check prints reads back as the same value.
	for _, z := range []Size{0, 1, 1000, 1024, 26214400, 536870912, 1 << 40, 1500} {
		if v, err := ParseSize(z.String()); err != nil || Size(v) != z {
			t.Errorf("Size(%d).String() = %q, reads back %d, %v", z, z.String(), v, err)
		}
	}
	for _, d := range []Duration{0, Duration(time.Second), Duration(5 * time.Minute), Duration(time.Hour), Duration(90 * time.Minute), Duration(30 * 24 * time.Hour), Duration(1500 * time.Millisecond)} {
		if v, err := ParseDuration(d.String()); err != nil || Duration(v) != d {
			t.Errorf("Duration(%d).String() = %q, reads back %s, %v", d, d.String(), v, err)
		}
	}
	if s, d := Size(25<<20).String(), Duration(30*24*time.Hour).String(); s != "25MiB" || d != "30d" {
		t.Errorf("String: %s, %s", s, d)
	}
}

func TestLine(t *testing.T) {
	src := "a:\n  b: 1\n  list:\n    - x\n    - y\nc: 2\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	for path, want := range map[string]int{"a": 1, "a.b": 2, "a.list[1]": 5, "c": 6, "a.missing": 1, "a.list[9]": 3, "zz": 0, "": 0} {
		if got := Line(root, path); got != want {
			t.Errorf("Line(%q) = %d, want %d", path, got, want)
		}
	}
}

// FuzzDecode: Decode never panics, and reports a problem with a line
// whenever it fails on a parsed document.
func FuzzDecode(f *testing.F) {
	f.Add("name: x\ninner:\n  port: four\n  max: 25MiB\n  timeout: 90d\nitems: [{port: 1}]\nby_name: {a: {on: true}}\n")
	f.Add("a: &x [*x]\n")
	f.Add("inner: &i {port: 7}\nitems: [*i, *i]\nptr: ~\n")
	f.Fuzz(func(t *testing.T, src string) {
		var cfg testConfig
		root, err := Decode("f.yaml", []byte(src), &cfg)
		if err == nil {
			return
		}
		var se *Error
		if !errors.As(err, &se) || len(se.Problems) == 0 {
			t.Fatalf("error %v is not an *Error with problems", err)
		}
		if root != nil {
			for _, p := range se.Problems {
				if p.Msg == "" {
					t.Fatalf("empty problem in %v", err)
				}
			}
		}
	})
}
