package sanitize

import (
	"strconv"
	"strings"
	"testing"
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
