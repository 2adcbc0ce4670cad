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
// hold for every input: no panic, the output re-parses with an independent
// parser, every leaf has a complete decision; under the strict policy the
// output is one text/plain part (no HTML, no attachment) and no attachment
// payload reaches it; under the default policy (with the sanitizers) only
// types our sanitizers write are attached.
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
	strictYAML, err := os.ReadFile("../policy/examples/strict.yaml")
	if err != nil {
		f.Fatal(err)
	}
	strict, err := policy.Parse("strict.yaml", strictYAML, policy.DefaultClauses())
	if err != nil {
		f.Fatal(err)
	}
	lim := Limits{MaxDepth: 8, MaxParts: 50, MaxHeaderBytes: 4096, MaxPartBytes: 1 << 20}
	rb := &Rebuilder{Policy: strict, Hostname: "mugai.test", Limits: lim}
	full := &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test", Limits: lim, Sanitizers: fastSanitizers()}
	allowed := map[string]bool{"multipart/mixed": true, "text/plain": true, "text/csv": true, "image/png": true, "image/jpeg": true,
		"application/zip": true, "message/rfc822": true}
	f.Fuzz(func(t *testing.T, in []byte) {
		if res, err := full.Rebuild(testEnvelope, bytes.NewReader(in)); err != nil {
			t.Fatalf("Rebuild (default policy): %v", err)
		} else if out, err := parseOutput(res.Message); err != nil {
			t.Fatalf("output (default policy) does not re-parse: %v", err)
		} else {
			for _, typ := range out.types {
				if !allowed[typ] && !strings.HasPrefix(typ, "application/vnd.openxmlformats") {
					t.Fatalf("default policy attached %s", typ)
				}
			}
		}
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
				t.Fatalf("strict policy produced action %s", d.Action)
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
