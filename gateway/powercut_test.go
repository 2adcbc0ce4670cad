package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mugai/gateway/originals"
)

// TestPowerCutDuringCommit: a session commits in one round
// (safeio.CommitVerified), so a power cut during that round can leave
// any of a message's three files renamed into place without its data:
// the right length reading as zeros (ext4's unwritten extents), or cut
// short. That message got no 250 and its sender sends it again. Every
// such state is caught before anything is delivered or released: a
// message is delivered once and whole when its spool entry verifies, or
// when its original (.eml and its index line) verifies to rebuild it from; else
// it stays in bad/ with a damaged record, and nothing of it is delivered.
// A damaged original is never released, and the gateway starts whatever
// it finds.
func TestPowerCutDuringCommit(t *testing.T) {
	cases := []struct {
		name      string
		damage    damage
		delivered bool // once, whole
		rebuilt   bool // from the original, after the spool entry went to bad/
	}{
		{"intact", damage{}, true, false},
		{"spool entry zeros", damage{"msg": zeroed}, true, true},
		{"spool entry cut", damage{"msg": cutShort}, true, true},
		{"original zeros", damage{"eml": zeroed}, true, false},
		{"index zeros", damage{"json": zeroed}, true, false},
		{"index cut", damage{"json": cutShort}, true, false},
		{"spool entry and original zeros", damage{"msg": zeroed, "eml": zeroed}, false, false},
		{"spool entry zeros, original cut", damage{"msg": zeroed, "eml": cutShort}, false, false},
		{"spool entry and index zeros", damage{"msg": zeroed, "json": zeroed}, false, false},
		{"all three zeros", damage{"msg": zeroed, "eml": zeroed, "json": zeroed}, false, false},
	}
	tg, ids := heldMessages(t, len(cases))
	for i, tc := range cases {
		hurt(t, tg, ids[i], tc.damage)
	}
	cfg := tg.cfg
	want := 0
	for _, tc := range cases {
		if tc.delivered {
			want++
		}
	}
	tg2, counts, bodies := deliverAfterRestart(t, cfg, want)
	for i, tc := range cases {
		id := ids[i]
		var damaged string
		for _, r := range auditEvents(t, cfg.Audit, id) {
			if r["event"] == "damaged" {
				damaged = r["detail"].(string)
			}
		}
		_, inBad := os.Stat(filepath.Join(cfg.Spool, "bad", id+".msg"))
		switch {
		case !tc.delivered:
			if counts[id] != 0 || inBad != nil || !strings.Contains(damaged, "left in bad/") {
				t.Errorf("%s: delivered %d times, in bad/: %v, audit %q; want it kept in bad/ and not delivered", tc.name, counts[id], inBad == nil, damaged)
			}
		case counts[id] != 1:
			t.Errorf("%s: delivered %d times, want once", tc.name, counts[id])
		case !strings.Contains(bodies[id], fmt.Sprintf("start of case %d", i)) || !strings.Contains(bodies[id], fmt.Sprintf("end of case %d", i)):
			t.Errorf("%s: delivered body is not the whole message:\n%s", tc.name, bodies[id])
		case tc.rebuilt && !strings.Contains(damaged, "rebuilt from the original"):
			t.Errorf("%s: audit %q, want it rebuilt from the original", tc.name, damaged)
		case !tc.rebuilt && damaged != "":
			t.Errorf("%s: its spool entry is intact, yet audited damaged: %q", tc.name, damaged)
		}
		// A release sends the original as it was received, or nothing.
		_, err := Release(cfg, tg2.g.originals, tg2.g.spool, tg2.g.audit, ReleaseRequest{ID: id, Operator: "yamada",
			Reason: "power cut test", Force: true, Now: time.Now()})
		_, emlHurt := tc.damage["eml"]
		_, jsonHurt := tc.damage["json"]
		if emlHurt && !jsonHurt && !errors.Is(err, errOriginalDamaged) {
			t.Errorf("%s: release of a damaged original: %v, want errOriginalDamaged", tc.name, err)
		}
		if jsonHurt && err == nil {
			t.Errorf("%s: released an original whose index does not read", tc.name)
		}
		if len(tc.damage) == 0 && err != nil {
			t.Errorf("%s: release of an intact original: %v", tc.name, err)
		}
	}
}

// TestPowerCutRecordsLost: the one round can also lose a message's
// audit records with any of its files' data (with two rounds every
// renamed file's data was durable). Start-up gives every message it
// delivers its records (rewritten from the index, marked recovered) and
// delivers nothing damaged. A spool entry kept whole whose index does not
// read has nothing to rewrite its records from: it never got its 250 (its
// records were not durable), so it is not delivered without records but
// kept in bad/ with a record saying why.
func TestPowerCutRecordsLost(t *testing.T) {
	cases := []struct {
		name      string
		damage    damage
		delivered bool // once, whole, with its records
	}{
		{"intact", damage{}, true},
		{"index zeros", damage{"json": zeroed}, false},
		{"index cut", damage{"json": cutShort}, false},
		{"original zeros", damage{"eml": zeroed}, true},
		{"spool entry zeros", damage{"msg": zeroed}, true}, // rebuilt from the original
		{"spool entry cut", damage{"msg": cutShort}, true},
		{"spool entry and original zeros", damage{"msg": zeroed, "eml": zeroed}, false},
		{"spool entry and index zeros", damage{"msg": zeroed, "json": zeroed}, false},
	}
	tg, ids := heldMessages(t, len(cases))
	cfg := tg.cfg
	lost := map[string]bool{}
	for i, tc := range cases {
		hurt(t, tg, ids[i], tc.damage)
		if i > 0 {
			lost[ids[i]] = true
		}
	}
	// The records of all but the first never reached the disk.
	dropAuditRecords(t, cfg.Audit, lost)

	want := 0
	for _, tc := range cases {
		if tc.delivered {
			want++
		}
	}
	_, counts, bodies := deliverAfterRestart(t, cfg, want)
	for i, tc := range cases {
		id := ids[i]
		ev := eventNames(auditEvents(t, cfg.Audit, id))
		_, inBad := os.Stat(filepath.Join(cfg.Spool, "bad", id+".msg"))
		switch {
		case !tc.delivered:
			if counts[id] != 0 || inBad != nil || !slices.Contains(ev, "damaged") {
				t.Errorf("%s: delivered %d times, in bad/: %v, audit %v; want it kept in bad/ with a damaged record, not delivered", tc.name, counts[id], inBad == nil, ev)
			}
		case counts[id] != 1:
			t.Errorf("%s: delivered %d times, want once", tc.name, counts[id])
		case !strings.Contains(bodies[id], fmt.Sprintf("start of case %d", i)) || !strings.Contains(bodies[id], fmt.Sprintf("end of case %d", i)):
			t.Errorf("%s: delivered body is not the whole message:\n%s", tc.name, bodies[id])
		case !slices.Contains(ev, "received") || !slices.Contains(ev, "decision"):
			t.Errorf("%s: delivered with the audit records %v, want its received and decision records", tc.name, ev)
		}
	}
}

// TestPowerCutIndexLineLost: the append of a message's index line can
// be lost whole, its length too, while its spool entry's rename, staged
// after it, reached the disk: ext4 extends an appended file's size on
// disk only when its delayed blocks are written back, and the entry's
// rename may be journalled before that (another session's round commits
// the journal). The day's index then reads well without the line, and
// Open removes the .eml it no longer vouches for; with its audit records
// lost too the entry has nothing to be delivered with: it is kept in
// bad/ with a damaged record, as when its index line reads as zeros.
func TestPowerCutIndexLineLost(t *testing.T) {
	tg, ids := heldMessages(t, 2)
	cfg := tg.cfg
	id := ids[1] // the newest: nothing after its line survives either
	hurt(t, tg, id, damage{"json": lost})
	dropAuditRecords(t, cfg.Audit, map[string]bool{id: true})
	_, counts, _ := deliverAfterRestart(t, cfg, 1)
	ev := eventNames(auditEvents(t, cfg.Audit, id))
	_, inBad := os.Stat(filepath.Join(cfg.Spool, "bad", id+".msg"))
	if counts[ids[0]] != 1 {
		t.Errorf("the intact message was delivered %d times, want once", counts[ids[0]])
	}
	if counts[id] != 0 || inBad != nil || !slices.Contains(ev, "damaged") {
		t.Errorf("delivered %d times, in bad/: %v, audit %v; want it kept in bad/ with a damaged record, not delivered without records",
			counts[id], inBad == nil, ev)
	}
}

// dropAuditRecords removes the audit records of the ids in lost from the
// audit log at path, as a power cut that lost them would.
func dropAuditRecords(t *testing.T, path string, lost map[string]bool) {
	t.Helper()
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(log), "\n") {
		var rec struct{ ID string }
		if json.Unmarshal([]byte(line), &rec) != nil || !lost[rec.ID] {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "")), 0o640); err != nil {
		t.Fatal(err)
	}
}

// damage says how a power cut left a message's files, by file: "msg" (the
// spool entry), "eml" (the original), "json" (its line in its day's index).
type damage map[string]func([]byte) []byte

// zeroed is a file whose data never reached the disk (ext4's unwritten
// extents read as zeros); cutShort one that reached it in part.
func zeroed(b []byte) []byte   { return make([]byte, len(b)) }
func cutShort(b []byte) []byte { return b[:len(b)/3] }

// lost is an index line whose append never reached the disk at all: the
// index ends before it (hurt drops what follows it too, so it must be
// the newest message's).
func lost([]byte) []byte { return nil }

// heldMessages sends n messages ("case i", its start and end marked)
// through a gateway whose next hop is down, waits until each was deferred,
// and stops the gateway: n messages kept and queued, none delivered.
func heldMessages(t *testing.T, n int) (*testGateway, []string) {
	t.Helper()
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := down.Addr().String()
	down.Close()
	tg := startGateway(t, func(c *Config) { c.Deliver.Relay = downAddr })
	ids := make([]string, n)
	for i := range n {
		reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"},
			fmt.Sprintf("Subject: case %d\r\n\r\nstart of case %d\r\n%s\r\nend of case %d\r\n", i, i, strings.Repeat("filler ", 40), i))
		if err != nil {
			t.Fatal(err)
		}
		_, ids[i], _ = strings.Cut(reply, "queued as ")
	}
	for _, id := range ids {
		waitFor(t, "a deferral", func() bool {
			return strings.Contains(strings.Join(eventNames(auditEvents(t, tg.cfg.Audit, id)), ","), "deferred")
		})
	}
	tg.stop(t)
	return tg, ids
}

// hurt leaves message id's files as a power cut during its commit round
// could: its spool state only in its entry line (the deferral's meta is
// removed: a message whose round was cut short never had one), and each
// file named in d damaged so.
func hurt(t *testing.T, tg *testGateway, id string, d damage) {
	t.Helper()
	os.Remove(filepath.Join(tg.cfg.Spool, id+".json"))
	_, eml, err := tg.g.originals.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"msg": filepath.Join(tg.cfg.Spool, id+".msg"), "eml": eml,
		"json": filepath.Join(filepath.Dir(eml), originals.IndexFile)}
	for which, hurt := range d {
		b, err := os.ReadFile(files[which])
		if err != nil {
			t.Fatal(err)
		}
		if which == "json" { // the message's line of its day's index, and its newline
			start := bytes.Index(b, []byte(`{"id":"`+id+`"`))
			if start < 0 || bytes.IndexByte(b[start:], '\n') < 0 {
				t.Fatalf("%s has no line for %s", files[which], id)
			}
			end := start + bytes.IndexByte(b[start:], '\n') + 1
			line := hurt(b[start:end])
			switch {
			case len(line) == 0: // lost: the index ends before it
				b = b[:start]
			case len(line) < end-start:
				line = append(line, '\n') // cut short, then ended by the next start (originals.Open)
				fallthrough
			default:
				b = append(append(b[:start:start], line...), b[end:]...)
			}
		} else {
			b = hurt(b)
		}
		if err := os.WriteFile(files[which], b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// deliverAfterRestart starts the gateway again on cfg with a next hop
// that takes mail, waits for want messages there and an empty queue, and
// returns the gateway, how often each id was delivered and each one's
// body text; a delivered message holding NUL bytes fails the test.
func deliverAfterRestart(t *testing.T, cfg Config, want int) (*testGateway, map[string]int, map[string]string) {
	t.Helper()
	hop := startNextHop(t)
	cfg.Deliver.Relay = hop.addr
	tg := startGatewayWith(t, cfg)
	waitFor(t, "the deliverable messages at the next hop", func() bool { return len(hop.messages()) >= want })
	waitFor(t, "an empty queue", func() bool { return tg.g.delivery.Queued() == 0 })
	bodies := map[string]string{}
	for _, m := range hop.messages() {
		if bytes.IndexByte(m.data, 0) >= 0 {
			t.Errorf("a delivered message holds NUL bytes:\n%q", m.data)
		}
		bodies[string(mugaiIDHeader.FindSubmatch(m.data)[1])] = bodyText(t, m.data)
	}
	return tg, hopCounts(t, hop), bodies
}
