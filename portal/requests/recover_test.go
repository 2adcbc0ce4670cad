package requests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// What a crash can leave: a temp file (never renamed), a truncated or
// garbled request file (a disk that lied), a file holding another
// request. Open removes the first, moves the others into bad/ and goes
// on; files it does not know stay.
func TestOpenRecovers(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	good := add(t, s, req("m", "2", "a@example.jp"))
	data, err := os.ReadFile(filepath.Join(dir, good.ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	truncated, garbled, misnamed := newID()+".json", newID()+".json", newID()+".json"
	bogusState := strings.Replace(string(data), `"waiting"`, `"lost"`, 1)
	for name, content := range map[string]string{
		"." + good.ID + ".json.0a1b2c3d4e5f.tmp": string(data[:10]),
		truncated:                                string(data[:len(data)/2]),
		garbled:                                  strings.Replace(bogusState, good.ID, strings.TrimSuffix(garbled, ".json"), 1),
		misnamed:                                 string(data), // holds good's id
		"README":                                 "notes by the admin",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0o750); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, dir)
	if got := s2.List(); len(got) != 1 || !reflect.DeepEqual(got[0], good) {
		t.Fatalf("after recovery: %+v", got)
	}
	damaged := s2.Damaged()
	if len(damaged) != 3 {
		t.Fatalf("damaged: %v", damaged)
	}
	all := fmt.Sprint(damaged)
	for _, name := range []string{truncated, garbled, misnamed} {
		if !strings.Contains(all, name) || !strings.Contains(all, "moved to "+filepath.Join(dir, "bad", name)) {
			t.Errorf("%s not reported moved: %v", name, damaged)
		}
	}
	for _, want := range []string{"unexpected end of JSON input", `state "lost"`, "holds request"} {
		if !strings.Contains(all, want) {
			t.Errorf("reasons lack %q: %v", want, damaged)
		}
	}
	if got := names(t, dir); !reflect.DeepEqual(got, sorted("README", "bad", good.ID+".json", "sub.json")) {
		t.Errorf("dir holds %v", got)
	}
	if got := names(t, filepath.Join(dir, "bad")); !reflect.DeepEqual(got, sorted(truncated, garbled, misnamed)) {
		t.Errorf("bad/ holds %v", got)
	}
	// Open again: nothing new to report, bad/ left as it is.
	if d := open(t, dir).Damaged(); len(d) != 0 {
		t.Errorf("second open reports %v", d)
	}
	// A second damaged file of a name already in bad/ does not replace it.
	os.WriteFile(filepath.Join(dir, truncated), []byte("{"), 0o640)
	if d := open(t, dir).Damaged(); len(d) != 1 || len(names(t, filepath.Join(dir, "bad"))) != 4 {
		t.Errorf("second damaged %s: %v, bad/ %v", truncated, d, names(t, filepath.Join(dir, "bad")))
	}
}

func TestConcurrentUpdate(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	r := add(t, s, req("m", "2", "a@example.jp"))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 25 {
				if _, err := s.Update(r.ID, func(x *Request) error {
					x.Comment += string(rune('a' + i))
					return nil
				}); err != nil {
					t.Error(err)
				}
				s.Get(r.ID)
				s.List(Waiting)
				s.ForMessage("m")
			}
		})
	}
	wg.Wait()
	got, _ := s.Get(r.ID)
	if len(got.Comment) != 16*25 {
		t.Fatalf("comment has %d of %d appends: updates lost", len(got.Comment), 16*25)
	}
	for i := range 16 {
		if n := strings.Count(got.Comment, string(rune('a'+i))); n != 25 {
			t.Errorf("writer %d: %d appends, want 25", i, n)
		}
	}
	if again, _ := open(t, dir).Get(r.ID); again.Comment != got.Comment {
		t.Error("reopened store differs from the last update")
	}
}

// Many asking at once for the same part get one request.
func TestConcurrentDuplicate(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	ids := make([]string, 16)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			r, err := s.Add(req("m", "2", "a@example.jp"))
			if err != nil {
				t.Error(err)
			}
			ids[i] = r.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids %v: want one", ids)
		}
	}
	if got := names(t, dir); len(got) != 1 {
		t.Errorf("dir holds %v, want one request file", got)
	}
}

// FuzzParse: a request file's content never panics the reader; what it
// accepts is a valid request that reads back the same once written.
func FuzzParse(f *testing.F) {
	id := newID()
	r := req("20261201T090000-b0e299d1fb09", "2.1", "a@example.jp")
	r.ID, r.State, r.Created = id, Approved, t0
	good, _ := json.Marshal(r)
	f.Add(good)
	f.Add([]byte(`{"id":"` + id + `"}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parse(id+".json", data)
		if err != nil {
			return
		}
		if got.ID != id || got.check() != nil {
			t.Fatalf("accepted %+v", got)
		}
		out, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parse(id+".json", out)
		if err != nil {
			t.Fatalf("written back, refused: %v", err)
		}
		if out2, _ := json.Marshal(again); string(out2) != string(out) {
			t.Fatalf("written back, read %s; want %s", out2, out)
		}
	})
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}
