package sanitize

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mugai/policy"
)

// FuzzRebuild feeds arbitrary messages to the rebuild and checks what must
// hold for every input under the default policy: no panic, the output
// re-parses with an independent parser, it is one text/plain part (no HTML,
// no attachment), every leaf has a complete decision, and no attachment
// payload reaches the output.
func FuzzRebuild(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.eml")
	for _, s := range seeds {
		if strings.HasSuffix(s, ".want.eml") {
			continue
		}
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, tc := range structureCases {
		f.Add([]byte(tc.msg))
	}
	rb := &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test",
		Limits: Limits{MaxDepth: 8, MaxParts: 50, MaxHeaderBytes: 4096, MaxPartBytes: 1 << 20}}
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := rb.Rebuild(testEnvelope, bytes.NewReader(in))
		if err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		out, err := parseOutput(res.Message)
		if err != nil {
			t.Fatalf("output does not re-parse: %v\n%q", err, res.Message)
		}
		if got := strings.Join(out.types, ","); got != "text/plain" {
			t.Fatalf("output parts %s, want only text/plain", got)
		}
		if len(res.Decisions) == 0 {
			t.Fatal("no decision recorded")
		}
		for _, d := range res.Decisions {
			if d.RuleID == "" || d.Clause == "" || d.Reason == "" || d.Action == "" {
				t.Fatalf("incomplete decision %+v", d)
			}
			if d.Action != policy.ActionTextify && d.Action != policy.ActionStrip {
				t.Fatalf("default policy produced action %s", d.Action)
			}
		}
		// A marker hidden in an attachment must never surface.
		if bytes.Contains(in, []byte("ATTACHED-PAYLOAD")) && strings.Contains(out.text, "ATTACHED-PAYLOAD") {
			for _, d := range res.Decisions {
				if d.Action == policy.ActionTextify && strings.Contains(d.DeclaredType, "text/") {
					return // the marker was in body text, which is allowed to show
				}
			}
			t.Fatalf("attachment payload reached the output")
		}
	})
}
