package gateway

import (
	"os"
	"path/filepath"
	"testing"

	"mugai/gateway/courier"
	"mugai/gateway/originals"
	"mugai/gateway/safeio"
)

// TestFilesCreatedAhead: the gateway keeps messages in files its pools
// created ahead; each message lands as before (original and index in the
// day folder, delivered), and a shutdown leaves no file of the pools in
// the spool or the originals folder.
func TestFilesCreatedAhead(t *testing.T) {
	tg := startGateway(t, nil)
	for range 5 {
		if _, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"}, "Subject: x\r\n\r\nx\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	waitMails(t, filepath.Join(tg.cfg.Deliver.Maildir, courier.FolderName("b@city.example.lg.jp"), "new"), 5)
	if n := len(pooled(t, tg.cfg.Originals)) + len(pooled(t, tg.cfg.Spool)); n == 0 {
		t.Error("no file was created ahead")
	}
	ms, problems, err := tg.g.originals.List(originals.Filter{})
	if err != nil || len(problems) > 0 || len(ms) != 5 {
		t.Fatalf("originals: %d %v %v", len(ms), problems, err)
	}
	for _, m := range ms {
		if _, path, err := tg.g.originals.Get(m.ID); err != nil || filepath.Base(filepath.Dir(path)) != m.Received.UTC().Format("2006-01-02") {
			t.Errorf("%s kept at %s (%v)", m.ID, path, err)
		}
	}
	tg.stop(t)
	for _, dir := range []string{tg.cfg.Originals, tg.cfg.Spool} {
		if left := pooled(t, dir); len(left) > 0 {
			t.Errorf("shutdown left %v in %s", left, dir)
		}
	}
}

func pooled(t *testing.T, dir string) []string {
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
