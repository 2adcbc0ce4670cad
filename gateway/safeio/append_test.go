package safeio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestStagedAppend: an append is written after the renames (it marks
// them committed), made durable in the round that makes them durable,
// checked through its own descriptor, and closed after; when that round
// fails, its undo record follows it and the files placed are removed.
func TestStagedAppend(t *testing.T) {
	for _, cm := range commits {
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fail=%v", cm.name, fail), func(t *testing.T) {
				dir := t.TempDir()
				final, index := filepath.Join(dir, "m.eml"), filepath.Join(dir, "index.jsonl")
				if err := os.WriteFile(index, []byte("{\"id\":\"earlier\"}\n"), 0o640); err != nil {
					t.Fatal(err)
				}
				var rounds []string // per round: whether the name was placed, and the index's content then
				c := &Committer{filesystem: true}
				c.syncfs = func(*os.File) error {
					_, err := os.Stat(final)
					b, _ := os.ReadFile(index)
					rounds = append(rounds, fmt.Sprintf("placed=%v %q", err == nil, b))
					return nil
				}
				var checked []string
				c.Fault = func(f *os.File) error {
					checked = append(checked, filepath.Base(f.Name()))
					if fail && filepath.Base(f.Name()) == "index.jsonl" {
						return errors.New("injected write-back error")
					}
					return nil
				}
				var s Staged
				stage(t, &s, final, "message")
				f, err := os.OpenFile(index, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				s.Append(f, []byte("{\"id\":\"m\"}\n"), []byte("{\"id\":\"m\",\"withdrawn\":true}\n"))
				err = cm.do(&s, c)
				if fail != (err != nil) {
					t.Fatalf("commit: %v", err)
				}
				last := rounds[len(rounds)-1]
				if want := "placed=true \"{\\\"id\\\":\\\"earlier\\\"}\\n{\\\"id\\\":\\\"m\\\"}\\n\""; last != want {
					t.Errorf("last round saw %s, want %s", last, want)
				}
				if cm.name == "two-rounds" && rounds[0] != "placed=false \"{\\\"id\\\":\\\"earlier\\\"}\\n\"" {
					t.Errorf("data round saw %s: the append came before the renames", rounds[0])
				}
				if !slices.Contains(checked, "index.jsonl") {
					t.Errorf("the index was not checked through its own descriptor: %v", checked)
				}
				if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
					t.Errorf("the index descriptor is still open after the commit: %v", err)
				}
				b, _ := os.ReadFile(index)
				want := "{\"id\":\"earlier\"}\n{\"id\":\"m\"}\n"
				if fail {
					want += "{\"id\":\"m\",\"withdrawn\":true}\n"
					if _, err := os.Stat(final); !os.IsNotExist(err) {
						t.Errorf("a failed commit left %s: %v", final, err)
					}
				}
				if string(b) != want {
					t.Errorf("index = %q, want %q", b, want)
				}
			})
		}
	}
}

// TestStagedAppendOrder: an append takes its place among the renames in
// staging order, after the files staged before it and before those staged
// after. When an earlier rename fails (a name taken meanwhile) nothing is
// appended, not even undo; when a later one fails, the append was
// written and gets its undo, and the earlier file, placed, is removed
// again.
func TestStagedAppendOrder(t *testing.T) {
	for _, tc := range []struct{ blocked, want string }{
		{"m.eml", ""},
		{"m.msg", "record\nundo\n"},
	} {
		dir := t.TempDir()
		index := filepath.Join(dir, "index.jsonl")
		f, err := os.OpenFile(index, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		var s Staged
		stage(t, &s, filepath.Join(dir, "m.eml"), "original")
		s.Append(f, []byte("record\n"), []byte("undo\n"))
		stage(t, &s, filepath.Join(dir, "m.msg"), "spool entry")
		if err := os.Mkdir(filepath.Join(dir, tc.blocked), 0o750); err != nil { // its rename fails
			t.Fatal(err)
		}
		if err := s.CommitVerified(nil); err == nil {
			t.Fatalf("%s blocked: commit over a directory succeeded", tc.blocked)
		}
		if b, _ := os.ReadFile(index); string(b) != tc.want {
			t.Errorf("%s blocked: index = %q, want %q", tc.blocked, b, tc.want)
		}
		if fi, err := os.Stat(filepath.Join(dir, "m.eml")); err == nil && !fi.IsDir() {
			t.Errorf("%s blocked: m.eml left after the failed commit", tc.blocked)
		}
	}
}
