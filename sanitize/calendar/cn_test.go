package calendar

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"mugai/sanitize/detect"
	"mugai/sanitize/format"
)

// TestPersonNameWrittenOnce: a CN that holds nothing but what the writer
// drops (quotes, control characters) or trims (spaces), or whose 200th
// character falls on a space, is written as the reader will read it back,
// so a rebuilt invitation rebuilt again is the same file (the fuzzer found
// CN="    \"" written as CN="" and then read as no name at all).
func TestPersonNameWrittenOnce(t *testing.T) {
	long := strings.Repeat("山", 199) + "  \"x"
	for _, cn := range []string{`    "`, `""`, "\" \x01 \"", `" a "`, `"` + long + `"`, "a\x7f\"b"} {
		ics := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u1\r\nDTSTART;VALUE=DATE:20261203\r\n" +
			"ORGANIZER;CN=" + cn + ":mailto:a@example.jp\r\nATTENDEE;CN=" + cn + ":mailto:b@example.jp\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		d := &Disarmer{Now: fixedNow}
		rebuild := func(in []byte) string {
			var out bytes.Buffer
			if _, err := d.Sanitize(context.Background(), format.Part{SniffedType: detect.TypeCalendar, Filename: "x.ics"}, bytes.NewReader(in), &out); err != nil {
				t.Fatalf("CN %q: %v", cn, err)
			}
			return out.String()
		}
		once := rebuild([]byte(ics))
		if twice := rebuild([]byte(once)); twice != once {
			t.Errorf("CN %q: rebuilt again differs:\n%s\n---\n%s", cn, once, twice)
		}
		if strings.Contains(once, `CN=""`) || strings.Contains(once, `CN=" `) {
			t.Errorf("CN %q: written as an empty or space-led name:\n%s", cn, once)
		}
	}
}
