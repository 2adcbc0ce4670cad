package gateway

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mugai/gateway/originals"
	"mugai/gateway/queue"
	"mugai/gateway/safeio"
)

const plainMessage = "From: a@example.jp\r\nTo: b@city.example.lg.jp\r\nSubject: hello\r\n\r\nhello\r\n"

// keepOriginal stores an original and its index as a session would.
func keepOriginal(t *testing.T, dir string, m originals.Meta) {
	t.Helper()
	st, err := originals.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := st.TempFile(m.Received, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(plainMessage)
	var s safeio.Staged
	if err := st.Stage(&s, f, m); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(nil); err != nil {
		t.Fatal(err)
	}
}

// newQuiet opens a gateway (recovery included) without serving.
func newQuiet(t *testing.T, cfg Config) *Gateway {
	t.Helper()
	g, err := New(cfg, slog.New(slog.NewTextHandler(tWriter{t}, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Messages kept without their audit records (a crash between their
// commit and the records reaching the disk) get them at the next start,
// from the originals index, marked recovered, before delivery; messages
// that have them get nothing more, and a spool entry with no original of
// its own (a DSN) is left alone.
func TestRecoverAudit(t *testing.T) {
	cfg := testConfig(t, nil)
	now := time.Now().UTC()
	spooled := originals.Meta{ID: NewID(now), Received: now, From: "a@example.jp", Rcpts: []string{"b@city.example.lg.jp"},
		Client: "192.0.2.1", MessageID: "<m1@example.jp>", Size: 70, Policy: "polsha",
		Parts: []originals.Part{{Path: "1", DeclaredType: "text/plain", DetectedType: "text/plain", Size: 6, SHA256: "ab",
			Action: "textify", Rule: "body-text", Clause: "2(13)", Reason: "body-text"},
			{Path: "2", Filename: "x.pdf", DeclaredType: "application/pdf", DetectedType: "application/pdf", Size: 9, SHA256: "cd",
				Action: "strip", Rule: "attachment-strip", Clause: "6(3)", Reason: "attachment"}}}
	delivered := spooled
	delivered.ID, delivered.MessageID = NewID(now), "<m2@example.jp>"
	keepOriginal(t, cfg.Originals, spooled)
	keepOriginal(t, cfg.Originals, delivered) // in the originals store only: already delivered
	spool, _, _, err := queue.Open(cfg.Spool)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*queue.Entry{
		{ID: spooled.ID, From: spooled.From, Created: now, NextAttempt: now, Rcpts: []*queue.Recipient{{Addr: "b@city.example.lg.jp", Status: queue.StatusPending}}},
		{ID: NewID(now), From: "", Created: now, NextAttempt: now, Bounce: true, Rcpts: []*queue.Recipient{{Addr: "a@example.jp", Status: queue.StatusPending}}},
	} {
		if err := spool.Add(e, []byte(plainMessage)); err != nil {
			t.Fatal(err)
		}
	}

	g := newQuiet(t, cfg)
	g.audit.Close()
	recs := auditEvents(t, cfg.Audit, "")
	byID := map[string][]string{}
	for _, r := range recs {
		if r["event"] == "policy" {
			continue
		}
		if r["recovered"] != true {
			t.Errorf("record not marked recovered: %v", r)
		}
		byID[r["id"].(string)] = append(byID[r["id"].(string)], r["event"].(string))
	}
	want := "received decision decision queued"
	for _, id := range []string{spooled.ID, delivered.ID} {
		if got := strings.Join(byID[id], " "); got != want {
			t.Errorf("%s: recovered %q, want %q", id, got, want)
		}
	}
	if len(byID) != 2 {
		t.Errorf("records written for %d messages, want 2 (not the DSN): %v", len(byID), byID)
	}
	for _, r := range auditEvents(t, cfg.Audit, spooled.ID) {
		switch r["event"] {
		case "received":
			if r["from"] != "a@example.jp" || r["message_id"] != "<m1@example.jp>" || r["client"] != "192.0.2.1" {
				t.Errorf("recovered received record: %v", r)
			}
		case "decision":
			if r["policy"] != "polsha" || r["rule"] == "" || r["sha256"] == "" {
				t.Errorf("recovered decision record: %v", r)
			}
		}
	}

	// The next start finds the records: nothing more is written.
	before := len(recs)
	g = newQuiet(t, cfg)
	g.audit.Close()
	if after := len(auditEvents(t, cfg.Audit, "")); after != before+1 { // its own policy record only
		t.Errorf("second start wrote %d records, want 1 (policy)", after-before)
	}
}

// One reading of the clock names and dates a message: with a clock that
// crosses UTC midnight between two readings, the id's day is still the
// originals day its original is kept under, so show and release find it.
func TestIDAndReceivedOneReading(t *testing.T) {
	midnight := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	var calls atomic.Int64
	clock := func() time.Time { // alternates between the two sides of midnight
		if calls.Add(1)%2 == 1 {
			return midnight.Add(-time.Microsecond)
		}
		return midnight.Add(time.Microsecond)
	}
	tg := startGatewayWith(t, testConfig(t, nil), func(g *Gateway) { g.Now = clock })
	for i := 0; i < 4; i++ {
		reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, plainMessage)
		if err != nil {
			t.Fatal(err)
		}
		id := reply[strings.LastIndex(reply, " ")+1:]
		store, err := originals.Attach(tg.cfg.Originals)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := store.Get(id)
		if err != nil {
			t.Fatalf("original of %s not found under its id's day: %v", id, err)
		}
		if day := m.Received.UTC().Format("20060102"); !strings.HasPrefix(id, day) {
			t.Errorf("id %s dates the message %s", id, day)
		}
	}
}

// A write-back error that only the session's own spool file reports gets
// that session a 451 with nothing kept, its records closed by rejected
// and a tempfail record (class spool); the next session commits. A failed sync of the audit file
// refuses every commit after it (451) until restart.
func TestCommitFault(t *testing.T) {
	var failSpool, failAudit atomic.Bool
	var auditName string
	tg := startGatewayWith(t, testConfig(t, nil), func(g *Gateway) {
		auditName = g.cfg.Audit
		c := safeio.NewCommitter(true)
		c.Fault = func(f *os.File) error {
			switch {
			case failSpool.Load() && strings.HasSuffix(filepath.Dir(f.Name()), "spool"):
				return errors.New("EIO (injected)")
			case failAudit.Load() && f.Name() == auditName:
				return errors.New("EIO (injected)")
			}
			return nil
		}
		g.committer = c
	})
	failSpool.Store(true)
	_, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, plainMessage)
	wantSMTPErr(t, err, 451, smtp.EnhancedCode{4, 3, 0})
	id := idInReply(t, err.Error())
	if _, _, err := (mustAttach(t, tg.cfg.Originals)).Get(id); !errors.Is(err, originals.ErrNotFound) {
		t.Errorf("original of a refused message kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tg.cfg.Spool, id+".msg")); err == nil {
		t.Error("spool entry of a refused message kept")
	}
	// The session commits in one round (CommitVerified): its records are
	// written before the round finds the fault, so they are closed by
	// rejected, then the tempfail says why.
	recs := auditEvents(t, tg.cfg.Audit, id)
	if ev := strings.Join(eventNames(recs), " "); !strings.HasPrefix(ev, "received") || !strings.HasSuffix(ev, "rejected tempfail") || recs[len(recs)-1]["class"] != "spool" {
		t.Errorf("audit of a message whose spool file failed to sync: %v (want its records closed by rejected, then a tempfail of class spool)", recs)
	}
	failSpool.Store(false)
	if _, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, plainMessage); err != nil {
		t.Fatalf("the next message: %v", err)
	}
	failAudit.Store(true)
	_, err = send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, plainMessage)
	wantSMTPErr(t, err, 451, smtp.EnhancedCode{4, 3, 0})
	id = idInReply(t, err.Error())
	if ev := strings.Join(eventNames(auditEvents(t, tg.cfg.Audit, id)), " "); !strings.HasPrefix(ev, "received") || !strings.HasSuffix(ev, "rejected tempfail") {
		t.Errorf("audit of a message refused after its records were written: %s (want them closed by rejected, then the tempfail)", ev)
	}
	if _, err := os.Stat(filepath.Join(tg.cfg.Spool, id+".msg")); err == nil {
		t.Error("spool entry kept although its audit records may be lost")
	}
	failAudit.Store(false)
	_, err = send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, plainMessage)
	wantSMTPErr(t, err, 451, smtp.EnhancedCode{4, 3, 0}) // still: the audit log is not trusted until restart
}

func idInReply(t *testing.T, s string) string {
	t.Helper()
	i := strings.Index(s, "(id ")
	if i < 0 {
		t.Fatalf("no id in %q", s)
	}
	return strings.TrimSuffix(s[i+4:], ")")
}

func mustAttach(t *testing.T, dir string) *originals.Store {
	t.Helper()
	st, err := originals.Attach(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The automatic purge does not follow a clock that jumped ahead: it keeps
// what the audit log's time does not make due, and refuses a run that
// would take more than half of what is kept; a clock that is right purges
// as the retention says.
func TestPurgeClockJump(t *testing.T) {
	day := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	retention := 14 * 24 * time.Hour
	setup := func(t *testing.T) Config {
		cfg := testConfig(t, func(c *Config) { c.OriginalsRetention = Duration(retention) })
		for i := 0; i < 20; i++ { // one original a day, the 20 days up to day
			at := day.AddDate(0, 0, -i)
			keepOriginal(t, cfg.Originals, originals.Meta{ID: NewID(at), Received: at, Parts: []originals.Part{{Path: "1"}}})
		}
		return cfg
	}
	kept := func(t *testing.T, cfg Config) int {
		n, err := mustAttach(t, cfg.Originals).Count()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		name     string
		now      time.Time
		clockRef time.Time // the newest audit record before the start
		want     int       // originals kept after the purge
	}{
		// a clock that is right: days ended before now − 14 days go (5 of 20)
		{"right", day.Add(time.Hour), day, 15},
		// a year ahead, audit log from yesterday: the log's time (plus a
		// day's slack) decides, not the clock
		{"jumped, log vouches", day.AddDate(1, 0, 0), day, 14},
		// a year ahead and no audit record to compare with: all 20 would
		// go, more than half: refused
		{"jumped, no log", day.AddDate(1, 0, 0), time.Time{}, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := setup(t)
			g := newQuiet(t, cfg)
			defer g.audit.Close()
			g.Now = func() time.Time { return c.now }
			g.clockRef, g.started = c.clockRef, time.Now()
			if _, err := g.autoPurge(); err != nil {
				t.Fatal(err)
			}
			if n := kept(t, cfg); n != c.want {
				t.Errorf("%d originals kept, want %d", n, c.want)
			}
		})
	}
	// By hand the retention applies as told, whatever the clock.
	cfg := setup(t)
	g := newQuiet(t, cfg)
	defer g.audit.Close()
	if _, err := PurgeOriginals(g.originals, g.audit, retention, day.AddDate(1, 0, 0), "test"); err != nil {
		t.Fatal(err)
	}
	if n := kept(t, cfg); n != 0 {
		t.Errorf("purge by hand kept %d", n)
	}
}
