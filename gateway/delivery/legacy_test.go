package delivery

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLegacySpool: a spool the previous version left (testdata/spool-v0,
// its recipients' last replies as strings) is delivered by this one: each
// message goes to its pending recipients only, once; each DSN names the
// failed recipients with the status and diagnostic the previous version's
// DSN gave them; the entry it kept in failed/ reads back with its reply
// typed and shown as before.
func TestLegacySpool(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "spool"), os.DirFS("testdata/spool-v0")); err != nil {
		t.Fatal(err)
	}
	hop := &fakeCourier{name: "relay hop"}
	bounces := &fakeCourier{name: "relay bounces"}
	tr := newTestRunner(t, dir, testConfig(), hop, bounces, slog.LevelDebug)
	tr.start(t)
	waitFor(t, "both DSNs and an empty spool", func() bool {
		w, _, _ := tr.spool.List()
		return len(bounces.messages()) == 2 && len(w) == 0 && tr.Queued() == 0
	})

	got := map[string][]string{}
	for _, m := range hop.messages() {
		got[mugaiID.FindStringSubmatch(string(m.data))[1]] = m.rcpts
	}
	want := map[string][]string{
		"20261120T090000-0000000000a1": {"later@city.example.lg.jp"},
		"20261120T090000-0000000000a2": {"later2@city.example.lg.jp"},
		"20261120T090000-0000000000a3": {"new@city.example.lg.jp"},
	}
	if len(got) != len(want) || len(hop.messages()) != len(want) {
		t.Errorf("the next hop got %v, want %v", got, want)
	}
	for id, rcpts := range want {
		if !slices.Equal(got[id], rcpts) {
			t.Errorf("%s went to %v, want %v", id, got[id], rcpts)
		}
	}

	checkLegacyDSNs(t, bounces.messages())
	_, failed, err := tr.spool.List()
	if err != nil || len(failed) != 1 {
		t.Fatalf("failed/: %v %v", failed, err)
	}
	r := failed[0].Rcpts[0]
	if r.Last == nil || r.Last.Code != 550 || r.Last.Enhanced != "5.1.1" || !r.Last.Permanent || r.Last.String() != "550 5.1.1 no such user" {
		t.Errorf("failed/ entry's reply: %+v", r.Last)
	}
}

// checkLegacyDSNs compares the DSNs sent for testdata/spool-v0 with what
// the previous version's DSNs said of each failed recipient (its buildDSN
// on these entries).
func checkLegacyDSNs(t *testing.T, dsns []sent) {
	t.Helper()
	type field struct{ status, diag string }
	wantDSN := map[string]map[string]field{
		"20261120T090000-0000000000a1": {
			"nobody@city.example.lg.jp": {"5.1.1", "smtp; 550 5.1.1 the recipient's mail system did not accept the address"},
		},
		"20261120T090000-0000000000a2": {
			"late@city.example.lg.jp":  {"4.4.7", "X-Mugai; delivery time expired after 120h0m0s"},
			"class@city.example.lg.jp": {"5.0.0", "smtp; 550 the recipient's mail system refused the message"},
			"local@city.example.lg.jp": {"5.0.0", "X-Mugai; the message could not be delivered"},
		},
	}
	for _, m := range dsns {
		d := parseDSN(t, m.data)
		id := mugaiID.FindStringSubmatch(d.headers)[1] // the bounced message's header
		w := wantDSN[id]
		if w == nil || len(d.fields) != len(w) || strings.Join(m.rcpts, ",") != "sender@example.jp" {
			t.Errorf("DSN for %q to %v: %v", id, m.rcpts, d.fields)
			continue
		}
		for rcpt, f := range w {
			h := d.fields[rcpt]
			if h.Get("Status") != f.status || h.Get("Diagnostic-Code") != f.diag {
				t.Errorf("%s %s: %q %q, want %q %q", id, rcpt, h.Get("Status"), h.Get("Diagnostic-Code"), f.status, f.diag)
			}
		}
		if strings.Contains(string(m.data), "lgwan-mx1") || strings.Contains(string(m.data), "10.9.9.9") {
			t.Errorf("the DSN for %s repeats the next hop's words", id)
		}
	}

}
