package strictyaml

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAliasExpansionBounded: a small file whose aliases multiply a list
// (here 50 KB naming 5,000 items that each alias a list of 5,000
// hosts: 25 million values) is refused at once, not decoded into
// gigabytes; a few aliases of a shared value still decode.
func TestAliasExpansionBounded(t *testing.T) {
	const k = 5000
	src := "inner: &i\n  hosts: [" + strings.Repeat("h,", k-1) + "h]\nitems: [" + strings.Repeat("*i,", k-1) + "*i]\n"
	var cfg testConfig
	start := time.Now()
	root, err := Decode("c.yaml", []byte(src), &cfg)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("decoding took %s", took)
	}
	var se *Error
	if !errors.As(err, &se) || root != nil {
		t.Fatalf("root %v, err %v: want no root and an *Error", root != nil, err)
	}
	if len(se.Problems) != 1 || !strings.Contains(se.Problems[0].Msg, "aliases expand to too many values") || se.Problems[0].Line == 0 {
		t.Errorf("problems %v", se.Problems)
	}

	shared := "inner: &i\n  hosts: [" + strings.Repeat("h,", 99) + "h]\nitems: [*i, *i, *i, *i, *i]\n"
	if _, err := Decode("c.yaml", []byte(shared), &cfg); err != nil || len(cfg.Items) != 5 || len(cfg.Items[4].Hosts) != 100 {
		t.Errorf("shared anchor: err %v, items %d", err, len(cfg.Items))
	}
}
