package gateway

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// smugglingSequences are the public end-of-data variants (hannob/smtpsmug,
// The-Login SMTP-Smuggling-Tools, the USENIX'25 lab), hex-encoded. The
// shared corpus TSV, when present, adds whatever it lists beyond these.
var smugglingSequences = []string{
	"0a2e0a", "0d2e0d", "0d2e0a", "0a2e0d", "0a2e0d0a", "0d0a2e0a", "0d2e0d0a", "0d0a2e0d",
	"0d0a002e0d0a", "0d0a2e000d0a", "0d0a2e0d0d0a", "0d0d0a2e0d0d0a", "000d0a2e0d0a",
	"0d000a2e0d0a", "0d0a2e0d000a", "0d0a2e0d0a00",
}

func loadSmugglingSequences(t *testing.T) map[string]string {
	seqs := map[string]string{}
	for _, h := range smugglingSequences {
		seqs["builtin-"+h] = h
	}
	tsv := filepath.Join("..", "..", "shared", "corpus", "smtp", "smuggling_end_of_data_sequences.tsv")
	b, err := os.ReadFile(tsv)
	if err != nil {
		t.Logf("shared corpus not present (%v): built-in sequences only", err)
		return seqs
	}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 2 {
			continue
		}
		seqs[f[0]] = f[1]
	}
	return seqs
}

// TestSmuggling sends, for each sequence, one pipelined dialogue in which
// the sequence is followed by a complete second transaction. A receiver
// that took the sequence for the end of data would queue two messages; we
// must queue at most one, and never the smuggled one as a separate
// message next to the first.
func TestSmuggling(t *testing.T) {
	tg := startGateway(t, nil)
	for name, h := range loadSmugglingSequences(t) {
		seq, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run(name, func(t *testing.T) {
			before := countQueued(t, tg)
			script := "EHLO attacker.test\r\n" +
				"MAIL FROM:<a@example.jp>\r\n" +
				"RCPT TO:<b@city.example.lg.jp>\r\n" +
				"DATA\r\n" +
				"From: a@example.jp\r\nSubject: first\r\n\r\nfirst body" + string(seq) +
				"MAIL FROM:<evil@example.jp>\r\n" +
				"RCPT TO:<victim@city.example.lg.jp>\r\n" +
				"DATA\r\n" +
				"From: ceo@city.example.lg.jp\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n" +
				"QUIT\r\n"
			lines := rawDialogue(t, tg.addr, script)
			queued := countQueued(t, tg) - before
			ok250 := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "250 2.0.0 Ok: queued as ") {
					ok250++
				}
			}
			if queued > 1 || ok250 > 1 {
				t.Fatalf("%d messages queued, %d acknowledged; want at most one\n%s", queued, ok250, strings.Join(lines, "\n"))
			}
		})
	}
}

// TestBareLineEndingsRejected: bare LF, bare CR and NUL each get 550 5.6.0
// and nothing is queued.
func TestBareLineEndingsRejected(t *testing.T) {
	tg := startGateway(t, nil)
	for name, body := range map[string]string{
		"bare LF":      "line one\nline two\r\n",
		"bare CR":      "line one\rline two\r\n",
		"NUL":          "line\x00one\r\n",
		"LF dot LF":    "first\n.\nMAIL FROM:<x@example.jp>\r\n",
		"CRLF dot LF ": "first\r\n.\nsecond\r\n",
		// go-smtp drops ".\r" here unseen; the connection layer catches it.
		"CRLF dot CR":      "first\r\n.\rsecond\r\n",
		"CRLF dot CR last": "first\r\n.\r",
	} {
		t.Run(name, func(t *testing.T) {
			before := countQueued(t, tg)
			lines := rawDialogue(t, tg.addr, "EHLO t\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\nDATA\r\nSubject: x\r\n\r\n"+body+".\r\nQUIT\r\n")
			all := strings.Join(lines, "\n")
			if !strings.Contains(all, "550 5.6.0") {
				t.Errorf("no 550 5.6.0 in:\n%s", all)
			}
			if n := countQueued(t, tg) - before; n != 0 {
				t.Errorf("%d messages queued", n)
			}
		})
	}
}

// TestBDATStrict: BDAT chunks go through the same strict reader: a bare
// LF in a chunk is refused, and a clean chunked message is accepted.
func TestBDATStrict(t *testing.T) {
	tg := startGateway(t, nil)
	run := func(body string) string {
		script := "EHLO t\r\nMAIL FROM:<a@example.jp>\r\nRCPT TO:<b@city.example.lg.jp>\r\n" +
			"BDAT " + itoa(len(body)) + " LAST\r\n" + body + "QUIT\r\n"
		return strings.Join(rawDialogue(t, tg.addr, script), "\n")
	}
	if got := run("Subject: x\r\n\r\nline\nsmuggled\r\n"); !strings.Contains(got, "550 5.6.0") {
		t.Errorf("bare LF in BDAT accepted:\n%s", got)
	}
	if got := run("Subject: x\r\n\r\nclean\r\n"); !strings.Contains(got, "250 2.0.0 Ok: queued as") {
		t.Errorf("clean BDAT refused:\n%s", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDotCRScan checks the raw-stream scanner on its own, across chunk
// boundaries: every split of each input must give the same verdict.
func TestDotCRScan(t *testing.T) {
	for _, tc := range []struct {
		in  string
		bad int // index of the offending byte, -1 for none
	}{
		{"EHLO a\r\nDATA\r\nx\r\n.\r\n", -1},
		{"DATA\r\nx\r\n.\rX\r\n.\r\n", 11},
		{".\rX", 2},                                  // the very first line
		{"DATA\r\n..\rX", -1},                        // dot-stuffed: strictReader sees this CR
		{"EHLO a\r\nstarttls\r\n\x16\x03\n.\rX", -1}, // ciphertext after STARTTLS
		{"EHLO a\r\nSTARTTLSX\r\n", -1},
		{"EHLO a\r\nSTART\r\n.\rX", 17},
		{"x\n.\r\n.\rZ", 7},
	} {
		for split := 0; split <= len(tc.in); split++ {
			var s dotCRScan
			got := s.scan([]byte(tc.in[:split]))
			if got < 0 {
				if got = s.scan([]byte(tc.in[split:])); got >= 0 {
					got += split
				}
			}
			if got != tc.bad {
				t.Errorf("%q split at %d: %d, want %d", tc.in, split, got, tc.bad)
			}
		}
	}
}

// BenchmarkDotCRScan: the per-byte cost the scanner adds to every
// plaintext session (1 MiB of typical 76-column data lines).
func BenchmarkDotCRScan(b *testing.B) {
	data := []byte(strings.Repeat(strings.Repeat("x", 74)+"\r\n", 1<<20/76))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var s dotCRScan
		for off := 0; off < len(data); off += 4096 {
			s.scan(data[off:min(off+4096, len(data))])
		}
	}
}

// dotCRReference is the scanner's specification written the slow way:
// look at the start of every line.
func dotCRReference(in []byte) int {
	for start := 0; start < len(in); {
		line := in[start:]
		if len(line) >= len(startTLSVerb) && strings.EqualFold(string(line[:len(startTLSVerb)]), startTLSVerb) {
			return -1
		}
		if len(line) >= 3 && line[0] == '.' && line[1] == '\r' && line[2] != '\n' {
			return start + 2
		}
		nl := bytes.IndexByte(line, '\n')
		if nl < 0 {
			return -1
		}
		start += nl + 1
	}
	return -1
}

// FuzzDotCRScan: the chunked scanner agrees with the reference for every
// input and every split into two reads.
func FuzzDotCRScan(f *testing.F) {
	for _, s := range []string{"DATA\r\nx\r\n.\rX\r\n", ".\r\n", "starttls\r\n.\rX", "a\n.\r"} {
		f.Add([]byte(s), uint16(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		k := int(split) % (len(in) + 1)
		var s dotCRScan
		got := s.scan(in[:k])
		if got < 0 {
			if got = s.scan(in[k:]); got >= 0 {
				got += k
			}
		}
		if want := dotCRReference(in); got != want {
			t.Fatalf("%q split at %d: scan %d, reference %d", in, k, got, want)
		}
	})
}
