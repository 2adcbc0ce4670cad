package originals

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"mugai/gateway/safeio"
)

// TestPooledStore: with a pool, originals stream into files created
// ahead in the store's folder and are committed into their day folders
// (an id received just before midnight UTC into that day's), listed and
// read as before; Close removes the files not used, and Open after a
// crash removes the ones a killed gateway left.
func TestPooledStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.UsePool(4)
	late := time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC)
	keep(t, s, "20261130T235959-aaaaaaaaaaaa", late, "a@example.jp", "x@city.example.lg.jp")
	keep(t, s, "20261201T000000-bbbbbbbbbbbb", late.Add(time.Second), "b@example.jp", "x@city.example.lg.jp")
	for _, p := range []string{"2026-11-30/20261130T235959-aaaaaaaaaaaa.eml", "2026-11-30/" + IndexFile,
		"2026-12-01/20261201T000000-bbbbbbbbbbbb.eml", "2026-12-01/" + IndexFile} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("not kept in its day folder: %v", err)
		}
	}
	m, path, err := s.Get("20261201T000000-bbbbbbbbbbbb")
	if b, rerr := os.ReadFile(path); err != nil || rerr != nil || m.From != "b@example.jp" || string(b) != "Subject: x\r\n\r\nbody of 20261201T000000-bbbbbbbbbbbb\r\n" {
		t.Fatalf("Get: %+v %q %v %v", m, b, err, rerr)
	}
	for deadline := time.Now().Add(10 * time.Second); len(temps(t, dir)) < 4; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the pool holds %v, not 4 files created ahead", temps(t, dir))
		}
	}
	s.Close()
	if pooled := temps(t, dir); len(pooled) != 0 {
		t.Errorf("Close left %v", pooled)
	}
	// A killed gateway's pool: Open removes it, and nothing else.
	for _, n := range []string{".pool.0123456789ab.tmp", ".pool.ba9876543210.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pooled := temps(t, dir); len(pooled) != 0 {
		t.Errorf("Open left %v", pooled)
	}
	if all, problems, err := s.List(Filter{}); err != nil || len(problems) > 0 || len(all) != 2 {
		t.Errorf("List after the restart: %v %v %v", all, problems, err)
	}
}

// temps lists the temp files in dir itself.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if safeio.IsTemp(de.Name()) {
			out = append(out, de.Name())
		}
	}
	return out
}
