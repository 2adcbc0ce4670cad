package calendar

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"mugai/sanitize/detect"
	"mugai/sanitize/format"
)

// Types lists the detected types the Extractor and the Disarmer take.
var Types = []string{detect.TypeCalendar, detect.TypeVCard}

// Extractor renders a calendar or a contact card as text for the message
// body (format.Verdict.Body) and writes no file: the action extract.
type Extractor struct {
	Limits Limits
}

// Disarmer renders a calendar or a contact card as text for the body
// and writes it anew: a minimal iCalendar (METHOD:PUBLISH) or a minimal
// vCard 3.0. The action disarm.
//
// METHOD is not kept: REQUEST becomes PUBLISH, and a CANCEL, a REPLY or a
// COUNTER gives no file at all, only the text. The method of an iTIP
// message acts on the recipient's calendar when the file is opened: a
// CANCEL from anyone on the Internet would delete the staff member's
// meeting of the same UID, a REPLY would change who attends, a REQUEST
// makes the client offer to answer the organizer. A PUBLISH file only
// adds the event (or updates the copy of the same UID) when staff import
// it, and the body says what the sender's method was.
type Disarmer struct {
	Limits Limits
	Now    func() time.Time // DTSTAMP for events without one; time.Now when nil
}

var (
	_ format.Sanitizer = (*Extractor)(nil)
	_ format.Sanitizer = (*Disarmer)(nil)
)

// Name implements format.Sanitizer.
func (*Extractor) Name() string { return "calendar" }

// Name implements format.Sanitizer.
func (*Disarmer) Name() string { return "calendar" }

// Sanitize implements format.Sanitizer: the text only.
func (x *Extractor) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	r, err := read(ctx, p, in, x.Limits)
	if err != nil {
		return format.Verdict{}, err
	}
	v := format.Verdict{Type: "text/plain; charset=utf-8", Body: r.body, Notes: r.notes}
	v.Notes = append(v.Notes, format.Note{JA: "内容を本文に記載し、ファイルは添付していません", EN: "its content is written in the body; the file is not attached"})
	return v, nil
}

// Sanitize implements format.Sanitizer: the text and a rebuilt file.
func (d *Disarmer) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (format.Verdict, error) {
	r, err := read(ctx, p, in, d.Limits)
	if err != nil {
		return format.Verdict{}, err
	}
	v := format.Verdict{Body: r.body, Notes: r.notes}
	var file []byte
	switch {
	case r.cal != nil && r.cal.Method != "" && r.cal.Method != "REQUEST" && r.cal.Method != "PUBLISH":
		v.Notes = append(v.Notes, format.Note{
			JA: "取消・返信などの通知は予定表に取り込むと予定を変えるため、ファイルは添付せず内容を本文に記載しました",
			EN: "a cancellation, reply or other notice changes the calendar it is imported into: its content is in the body, no file is attached"})
	case r.cal != nil:
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		if file = WriteCalendar(r.cal, now()); file != nil {
			v.Type, v.Filename = "text/calendar; charset=utf-8", icsName(p.Filename, ".ics")
			v.Notes = append(v.Notes, format.Note{JA: "予定表に取り込める形式（必要な項目のみ）で作り直しました", EN: "rebuilt as a calendar file with only the fields needed to import it"})
		} else {
			v.Notes = append(v.Notes, format.Note{JA: "日時を読み取れる予定がないため、ファイルは添付していません", EN: "no event had a readable date, so no file is attached"})
		}
	case len(r.cards) == 0:
		v.Notes = append(v.Notes, format.Note{JA: "連絡先が見つからないため、ファイルは添付していません", EN: "no contact was found, so no file is attached"})
	default:
		file = WriteContacts(r.cards)
		v.Type, v.Filename = "text/vcard; charset=utf-8", icsName(p.Filename, ".vcf")
		v.Notes = append(v.Notes, format.Note{JA: "連絡先の基本項目だけの vCard 3.0 に作り直しました", EN: "rebuilt as a vCard 3.0 with the basic fields only"})
	}
	if v.Type == "" {
		v.Type = "text/plain; charset=utf-8"
	}
	_, err = out.Write(file)
	return v, err
}

// icsName keeps the sender's name when it ends in ext, else gives one.
func icsName(name, ext string) string {
	if strings.HasSuffix(strings.ToLower(name), ext) {
		return name
	}
	if ext == ".ics" {
		return "invite.ics"
	}
	return "contact.vcf"
}

// reading is what read found.
type reading struct {
	cal   *Calendar
	cards []Contact
	body  string
	notes []format.Note
}

// read reads, parses and renders one file within the limits.
func read(ctx context.Context, p format.Part, in io.Reader, lim Limits) (reading, error) {
	lim = lim.withDefaults()
	raw, err := format.ReadAll(in, int64(lim.MaxBytes))
	if err != nil {
		return reading{}, fmt.Errorf("calendar: %w", err)
	}
	if err := p.Budget.Take(int64(len(raw)) * 4); err != nil { // the text, the parse, the rendering
		return reading{}, err
	}
	parsed, err := Parse([]byte(Decode(raw)), lim)
	if err != nil {
		return reading{}, err
	}
	if err := ctx.Err(); err != nil {
		return reading{}, err
	}
	var r reading
	if p.SniffedType == detect.TypeVCard {
		r.cards = ReadContacts(parsed)
		r.body = RenderContacts(r.cards, p.Filename)
		dropped := 0
		for _, c := range r.cards {
			dropped += c.Dropped
		}
		r.notes = countNote(r.notes, dropped, "写真・URL・鍵などの項目", "other field (photo, URL, key…) removed", "other fields (photos, URLs, keys…) removed")
		return r, nil
	}
	r.cal = ReadCalendar(parsed)
	r.body = RenderCalendar(r.cal, p.Filename)
	r.notes = calendarNotes(r.cal.Left)
	return r, nil
}

func calendarNotes(l Left) []format.Note {
	var ns []format.Note
	ns = countNote(ns, l.Alarms, "通知（アラーム）", "alarm removed", "alarms removed")
	ns = countNote(ns, l.Attachments, "予定に添付されたファイル", "file attached to the event removed", "files attached to the event removed")
	ns = countNote(ns, l.URLs, "URL・会議リンクの項目", "URL or conference link field removed", "URL or conference link fields removed")
	ns = countNote(ns, l.Extensions, "独自拡張の項目（X-）", "extension field (X-) removed", "extension fields (X-) removed")
	ns = countNote(ns, l.Components, "予定以外の項目（タスク等）", "other component (task, journal…) removed", "other components (tasks, journals…) removed")
	ns = countNote(ns, l.BadRules, "読み取れない繰り返し規則", "unreadable recurrence rule left out", "unreadable recurrence rules left out")
	ns = countNote(ns, l.Unreadable, "読み取れない行・長すぎる行", "unreadable or over-long line left out", "unreadable or over-long lines left out")
	return ns
}

// countNote adds "N 件の…を削除" for n > 0.
func countNote(ns []format.Note, n int, ja, one, many string) []format.Note {
	if n <= 0 {
		return ns
	}
	return append(ns, format.Note{JA: fmt.Sprintf("%s %d 件を削除", ja, n), EN: plural(n, one, many)})
}
