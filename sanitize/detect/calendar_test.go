package detect

import (
	"testing"

	"mugai/policy"
)

// TestCalendarFamily: Outlook's invite.ics declared application/ics, a
// Google invitation's text/calendar and an old phone's text/x-vcard are
// what they say; the same names on other content are disguised.
func TestCalendarFamily(t *testing.T) {
	const ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=Tokyo Standard Time:20261203T140000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	const vcf = "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:=8E=52=93=63\r\nEND:VCARD\r\n"
	tests := []struct {
		name, data, declared, filename, want string
		disguised                            bool
	}{
		// Calendars.
		{"outlook invite.ics", ics, "application/ics", "invite.ics", TypeCalendar, false},
		{"google text/calendar", ics, "text/calendar", "invite.ics", TypeCalendar, false},
		{"lower case begin", "begin:vcalendar\nend:vcalendar\n", "text/calendar", "", TypeCalendar, false},
		{"after a bom and blank line", "\xef\xbb\xbf\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "", "x.ics", TypeCalendar, false},
		{"vcalendar 1.0 .vcs", "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nEND:VCALENDAR\r\n", "text/x-vcalendar", "a.vcs", TypeCalendar, false},
		{"exe named ics", "MZ\x90\x00", "application/ics", "invite.ics", "", true},
		{"html named ics", "<html><script>x</script></html>", "text/calendar", "invite.ics", TypeHTML, true},
		// Contact cards.
		{"vcard 2.1", vcf, "text/x-vcard", "yamada.vcf", TypeVCard, false},
		{"vcard 4.0", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEND:VCARD\r\n", "text/vcard", "x.vcf", TypeVCard, false},
		{"vcard named ics", vcf, "text/calendar", "", TypeVCard, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			if tt.filename != "" {
				names = []string{tt.filename}
			}
			r := Detect([]byte(tt.data), tt.declared, names)
			if tt.want != "" && r.Type != tt.want {
				t.Errorf("type %q, want %q", r.Type, tt.want)
			}
			if got := r.Has(policy.FlagDisguised); got != tt.disguised {
				t.Errorf("disguised %v, want %v (%v)", got, tt.disguised, r.Detail)
			}
		})
	}
}
