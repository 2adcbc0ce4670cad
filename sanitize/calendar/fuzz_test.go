package calendar

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"mugai/sanitize/detect"
	"mugai/sanitize/format"
)

// FuzzSanitize: no panic; the body text is valid UTF-8; a rebuilt file
// parses back with nothing skipped, holds no alarm, attachment, X-
// property or live web link, and rebuilding it again gives the same file.
func FuzzSanitize(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ics")
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(b, false)
	}
	f.Add([]byte("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=SHIFT_JIS;QUOTED-PRINTABLE:=8E=52=\r\n=93=63;;;\r\nEND:VCARD\r\n"), true)
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261203\r\nDURATION:P2D\r\nATTENDEE;CN=\"a:b\":mailto:a@b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, card bool) {
		typ := detect.TypeCalendar
		if card {
			typ = detect.TypeVCard
		}
		d := &Disarmer{Now: fixedNow}
		var out bytes.Buffer
		v, err := d.Sanitize(context.Background(), format.Part{SniffedType: typ, Filename: "x"}, bytes.NewReader(data), &out)
		if err != nil {
			return
		}
		if !utf8.ValidString(v.Body) {
			t.Fatalf("body is not UTF-8: %q", v.Body)
		}
		if out.Len() == 0 {
			return
		}
		file := out.String()
		unfolded := strings.ReplaceAll(file, "\r\n ", "")
		for _, bad := range []string{"BEGIN:VALARM", "\r\nATTACH", "\r\nX-", "http://", "https://", "\r\nURL", "\r\nPHOTO"} {
			if strings.Contains(strings.ToUpper(unfolded), strings.ToUpper(bad)) {
				t.Fatalf("rebuilt file holds %q:\n%s", bad, file)
			}
		}
		p, err := Parse(out.Bytes(), Limits{})
		if err != nil || p.BadLines+p.LongLines > 0 {
			t.Fatalf("rebuilt file does not read back (%v, %d bad lines):\n%s", err, p.BadLines+p.LongLines, file)
		}
		var again bytes.Buffer
		if _, err := d.Sanitize(context.Background(), format.Part{SniffedType: typ, Filename: "x"}, bytes.NewReader(out.Bytes()), &again); err != nil {
			t.Fatalf("rebuilt file fails: %v", err)
		}
		if again.String() != file {
			t.Fatalf("rebuilding twice differs:\n%s\n---\n%s", file, again.String())
		}
	})
}
