package sanitize

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"mugai/gateway/load"
	"mugai/policy"
)

// BenchmarkZip100 rebuilds a message carrying a ZIP of 100 small text
// files: every member is identified, decided and rewritten.
func BenchmarkZip100(b *testing.B) {
	var entries []zipEntry
	for i := 0; i < 100; i++ {
		entries = append(entries, zipEntry{name: "file" + strconv.Itoa(i) + ".txt", data: []byte(strings.Repeat("会議資料 line\n", 20))})
	}
	msg := withAttachment("application/zip", "files.zip", makeZip(&testing.T{}, entries...))
	rb := &Rebuilder{Policy: testRebuilder().Policy, Sanitizers: fastSanitizers()}
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := rb.Rebuild(testEnvelope, strings.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
}

func strictPolicy(b testing.TB) *policy.Policy {
	b.Helper()
	data, err := os.ReadFile("../policy/examples/strict.yaml")
	if err != nil {
		b.Fatal(err)
	}
	p, err := policy.Parse("strict.yaml", data, policy.DefaultClauses())
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchRebuild rebuilds msg b.N times and reports the heap allocated per
// byte of input (alloc/B): a bounded rebuild stays near a small constant.
func benchRebuild(b *testing.B, rb *Rebuilder, msg string) {
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		if _, err := rb.Rebuild(testEnvelope, strings.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n)/float64(len(msg)), "alloc/B")
}

// BenchmarkHTML50K: a 50 KB Japanese HTML mail (Shift_JIS) to text.
func BenchmarkHTML50K(b *testing.B) {
	var body strings.Builder
	body.WriteString("<html><head><meta charset=\"shift_jis\"></head><body><table>")
	for body.Len() < 50<<10 {
		body.WriteString("<tr><td>令和８年度 予算要求資料</td><td><a href=\"https://example.jp/a?b=c\">詳細はこちら</a></td><td style=\"color:#333\">担当：総務課</td></tr>\n")
	}
	body.WriteString("</table></body></html>\n")
	sjis, _ := japanese.ShiftJIS.NewEncoder().String(body.String())
	msg := crlf("From: a@example.jp\nSubject: budget\nMIME-Version: 1.0\nContent-Type: text/html; charset=shift_jis\nContent-Transfer-Encoding: 8bit\n\n") + sjis
	benchRebuild(b, &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test"}, msg)
}

// BenchmarkReference: the reference message (~150 KB: text and
// HTML alternatives, ISO-2022-JP subject, 100 KB PDF) under the strict
// policy (the PDF is removed) and the default one (the PDF is flattened
// in the WebAssembly pdfium; warm pool after the first iteration).
func BenchmarkReference(b *testing.B) {
	msg := string(load.Realistic())
	b.Run("strict", func(b *testing.B) {
		benchRebuild(b, &Rebuilder{Policy: strictPolicy(b), Hostname: "mugai.test"}, msg)
	})
	b.Run("default", func(b *testing.B) {
		benchRebuild(b, &Rebuilder{Policy: policy.Default(), Hostname: "mugai.test", Sanitizers: testSanitizers()}, msg)
	})
}

// Benchmark25MB: a 25 MB message with one attachment, strict policy. The
// alloc/B figure says how many times over the message is held.
func Benchmark25MB(b *testing.B) {
	data := make([]byte, 18<<20) // ~25 MB once base64-encoded
	for i := range data {
		data[i] = byte(i * 7919 >> 3)
	}
	msg := withAttachment("application/octet-stream", "big.bin", data)
	benchRebuild(b, &Rebuilder{Policy: strictPolicy(b), Hostname: "mugai.test"}, msg)
}
