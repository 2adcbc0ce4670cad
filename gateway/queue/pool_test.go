package queue

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"mugai/gateway/safeio"
)

// TestPooledSpool: with a pool, entries are written into files created
// ahead in the spool and read back as before; listing and recovery take
// the files waiting in the pool for what they are (not entries, not
// unknown files); Close removes them; a start removes what a killed
// gateway's pool left.
func TestPooledSpool(t *testing.T) {
	dir := t.TempDir()
	s, _, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.UsePool(3)
	for _, id := range []string{"p1", "p2"} {
		if err := s.Add(&Entry{ID: id, Rcpts: []*Recipient{{Addr: "a@example.jp", Status: StatusPending}}}, []byte("message "+id)); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); len(spoolTemps(t, dir)) < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the pool holds %v, not 3 files created ahead", spoolTemps(t, dir))
		}
	}
	if m, err := s.Message("p2"); err != nil || string(m) != "message p2" {
		t.Fatalf("Message = %q, %v", m, err)
	}
	if waiting, _, err := s.List(); err != nil || len(waiting) != 2 {
		t.Fatalf("List = %v, %v", waiting, err)
	}
	s.Close()
	if left := spoolTemps(t, dir); len(left) != 0 {
		t.Errorf("Close left %v", left)
	}
	if err := os.WriteFile(filepath.Join(dir, ".pool.0123456789ab.tmp"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	_, entries, problems, err := Open(dir)
	if err != nil || len(entries) != 2 || len(problems) != 0 {
		t.Fatalf("Open after a kill: %v %v %v", entries, problems, err)
	}
	if left := spoolTemps(t, dir); len(left) != 0 {
		t.Errorf("Open left %v", left)
	}
}

func spoolTemps(t *testing.T, dir string) []string {
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
