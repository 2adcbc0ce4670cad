package queue

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadEntry: readEntry's verdicts are errors compared with errors.Is;
// their texts are what recovery reports, as before they were errors.
func TestReadEntry(t *testing.T) {
	entry := func(id string, rcpts int) []byte {
		e := Entry{ID: id, From: "a@example.jp", Created: time.Unix(1700000000, 0).UTC()}
		for range rcpts {
			e.Rcpts = append(e.Rcpts, &Recipient{Addr: "b@example.jp", Status: StatusPending})
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withLine := func(js []byte) []byte { return append(append([]byte(entryLine), js...), "\nmessage\r\n"...) }
	cases := []struct {
		name       string
		meta, msg  []byte // nil: no such file
		metaDir    bool   // the meta is a directory (unreadable)
		msgDir     bool   // the message file is a directory (unreadable)
		want       error  // nil: sound
		damaged    bool   // damagedFile: the message file itself is damaged
		wantPrefix string // of err.Error(), the Problem.Reason recovery reports
	}{
		// Sound: by its meta, or by its message file's entry line.
		{name: "meta", meta: entry("x", 1), msg: []byte("message\r\n")},
		{name: "entry line", msg: withLine(entry("x", 1))},
		// The message file itself is damaged: no meta beside it, and its
		// entry line lost or torn.
		{name: "no entry line", msg: []byte("\x00\x00x"), want: errNoEntry, damaged: true, wantPrefix: "message file has no entry line and no meta"},
		{name: "torn entry line", msg: withLine([]byte(`{"id":"x",`)), want: errBadLine, damaged: true, wantPrefix: "entry line does not parse: "},
		// The meta is the truth and says nothing about the message bytes.
		{name: "meta does not parse", meta: []byte("{not json"), msg: []byte("x"), want: errBadMeta, wantPrefix: "meta does not parse: "},
		{name: "message missing", meta: entry("x", 1), want: errNoMessage, wantPrefix: "message file missing"},
		{name: "meta unreadable", metaDir: true, msg: []byte("x"), want: errUnreadableMeta, wantPrefix: "unreadable meta: "},
		{name: "message unreadable", msgDir: true, want: errUnreadableMsg, wantPrefix: "unreadable message file: "},
		{name: "neither file", want: errUnreadableMsg, wantPrefix: "unreadable message file: "},
		// Parses, but is not this entry or has nobody to deliver to.
		{name: "other id in meta", meta: entry("y", 1), msg: []byte("x"), want: errInconsistent, wantPrefix: "entry is inconsistent"},
		{name: "other id in entry line", msg: withLine(entry("y", 1)), want: errInconsistent, wantPrefix: "entry is inconsistent"},
		{name: "no recipients", msg: withLine(entry("x", 0)), want: errInconsistent, wantPrefix: "entry is inconsistent"},
	}
	verdicts := []error{errNoEntry, errBadLine, errBadMeta, errNoMessage, errUnreadableMsg, errUnreadableMeta, errInconsistent}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(name string, data []byte, isDir bool) {
				p := filepath.Join(dir, name)
				switch {
				case isDir:
					if err := os.Mkdir(p, 0o750); err != nil {
						t.Fatal(err)
					}
				case data != nil:
					if err := os.WriteFile(p, data, 0o640); err != nil {
						t.Fatal(err)
					}
				}
			}
			write("x.json", tc.meta, tc.metaDir)
			write("x.msg", tc.msg, tc.msgDir)
			e, err := readEntry(dir, "x")
			if tc.want == nil {
				if err != nil || e == nil || e.ID != "x" {
					t.Fatalf("readEntry = %+v, %v; want the entry", e, err)
				}
				return
			}
			if e != nil || !errors.Is(err, tc.want) {
				t.Fatalf("readEntry = %+v, %v; want an error wrapping %q", e, err, tc.want)
			}
			for _, v := range verdicts {
				if v != tc.want && errors.Is(err, v) {
					t.Errorf("%v also wraps %q", err, v)
				}
			}
			if got := damagedFile(err); got != tc.damaged {
				t.Errorf("damagedFile(%v) = %v, want %v", err, got, tc.damaged)
			}
			if !strings.HasPrefix(err.Error(), tc.wantPrefix) {
				t.Errorf("reason %q, want it to start with %q", err, tc.wantPrefix)
			}
		})
	}
}

// TestReadEntryVerdictsWrapped: the callers keep readEntry's verdict in
// the errors they return (Message: ErrDamaged and the verdict).
func TestReadEntryVerdictsWrapped(t *testing.T) {
	dir := t.TempDir()
	s, _, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "torn.msg"), []byte(entryLine+`{"id":"torn",`+"\nx"), 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = s.Message("torn")
	if !errors.Is(err, ErrDamaged) || !errors.Is(err, errBadLine) {
		t.Errorf("Message = %v, want ErrDamaged and errBadLine", err)
	}
	_, err = s.Entry("torn")
	if !errors.Is(err, errBadLine) {
		t.Errorf("Entry = %v, want errBadLine", err)
	}
}
