package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mugai/gateway/originals"
)

// TestDamagedSpoolEntries: spooled messages damaged while they wait (cut,
// overwritten at the start, changed in the middle; with their state in a
// meta or only in their entry line) are never delivered as they are. Each
// goes to bad/ with an audit record and, its original being intact, is
// rebuilt from it and delivered once; when the original is damaged too,
// or its index entry has no sha256 to check it against, it stays in bad/
// and nothing is delivered.
func TestDamagedSpoolEntries(t *testing.T) {
	cases := []struct {
		name      string
		damage    func(b []byte) []byte
		dropMeta  bool   // as if never attempted: the state only in the entry line
		badOrigin string // "": intact; "flipped": a byte changed; "unsummed": its index line without sha256
	}{
		{"truncated to 0", func([]byte) []byte { return nil }, false, ""},
		{"cut mid-line", func(b []byte) []byte { return b[:len(b)-9] }, false, ""},
		{"first bytes zeroed", func(b []byte) []byte { copy(b, make([]byte, 32)); return b }, false, ""},
		{"first bytes zeroed, no meta", func(b []byte) []byte { copy(b, make([]byte, 32)); return b }, true, ""},
		{"truncated to 0, no meta", func([]byte) []byte { return nil }, true, ""},
		{"byte flipped in the middle", func(b []byte) []byte { b[len(b)-40] ^= 0x01; return b }, false, ""},
		{"original damaged too", func(b []byte) []byte { b[len(b)-40] ^= 0x01; return b }, false, "flipped"},
		{"original unsummed", func(b []byte) []byte { b[len(b)-40] ^= 0x01; return b }, false, "unsummed"},
	}
	tg, ids := heldMessages(t, len(cases))
	for i, tc := range cases {
		p := filepath.Join(tg.cfg.Spool, ids[i]+".msg")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, tc.damage(b), 0o640)
		if tc.dropMeta {
			os.Remove(filepath.Join(tg.cfg.Spool, ids[i]+".json"))
		}
		switch tc.badOrigin {
		case "flipped":
			_, orig, err := tg.g.originals.Get(ids[i])
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(orig)
			b[len(b)/2] ^= 0x01
			os.WriteFile(orig, b, 0o640)
		case "unsummed":
			dropIndexSum(t, tg, ids[i])
		}
	}

	hop := startNextHop(t)
	cfg := tg.cfg
	cfg.Deliver.Relay = hop.addr
	tg2 := startGatewayWith(t, cfg)
	want := 0
	for _, tc := range cases {
		if tc.badOrigin == "" {
			want++
		}
	}
	waitFor(t, "the rebuilt messages at the next hop", func() bool { return len(hop.messages()) >= want })
	waitFor(t, "an empty queue", func() bool { return tg2.g.delivery.Queued() == 0 })
	counts := hopCounts(t, hop)
	bodies := map[string]string{}
	for _, m := range hop.messages() {
		bodies[string(mugaiIDHeader.FindSubmatch(m.data)[1])] = bodyText(t, m.data)
	}
	bad, _ := os.ReadDir(filepath.Join(cfg.Spool, "bad"))
	var badNames []string
	for _, de := range bad {
		badNames = append(badNames, de.Name())
	}
	for i, tc := range cases {
		id := ids[i]
		var detail string
		for _, r := range auditEvents(t, cfg.Audit, id) {
			if r["event"] == "damaged" {
				detail = r["detail"].(string)
			}
		}
		if !strings.Contains(strings.Join(badNames, " "), id+".msg") {
			t.Errorf("%s: not in bad/ (%v)", tc.name, badNames)
		}
		if tc.badOrigin != "" {
			if counts[id] != 0 || !strings.Contains(detail, "left in bad/") || !strings.Contains(detail, "original does not match") {
				t.Errorf("%s: delivered %d times, audit %q", tc.name, counts[id], detail)
			}
			if _, err := os.Stat(filepath.Join(cfg.Spool, id+".msg")); err == nil {
				t.Errorf("%s: still in the spool", tc.name)
			}
			continue
		}
		if counts[id] != 1 {
			t.Errorf("%s: delivered %d times", tc.name, counts[id])
		}
		if b := bodies[id]; !strings.Contains(b, fmt.Sprintf("start of case %d", i)) || !strings.Contains(b, fmt.Sprintf("end of case %d", i)) {
			t.Errorf("%s: delivered body is not the whole message:\n%s", tc.name, b)
		}
		if !strings.Contains(detail, "rebuilt from the original") {
			t.Errorf("%s: audit detail %q", tc.name, detail)
		}
	}
}

// dropIndexSum rewrites message id's line in its day's originals index
// without its sha256, as a hand-made index might hold it.
func dropIndexSum(t *testing.T, tg *testGateway, id string) {
	t.Helper()
	m, orig, err := tg.g.originals.Get(id)
	if err != nil || m.SHA256 == "" {
		t.Fatalf("Get %s: %v, sha256 %q", id, err, m.SHA256)
	}
	index := filepath.Join(filepath.Dir(orig), originals.IndexFile)
	b, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	found := false
	for i, line := range lines {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["id"] != id {
			continue
		}
		delete(rec, "sha256")
		nl, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		lines[i], found = string(nl), true
	}
	if !found {
		t.Fatalf("no index line for %s", id)
	}
	if err := os.WriteFile(index, []byte(strings.Join(lines, "\n")), 0o640); err != nil {
		t.Fatal(err)
	}
}
