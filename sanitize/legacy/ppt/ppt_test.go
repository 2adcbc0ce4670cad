package ppt

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"mugai/sanitize/format"
	"mugai/sanitize/legacy/internal/ole"
)

func extract(t *testing.T, e *Extractor, data []byte) (string, format.Verdict, error) {
	t.Helper()
	var out bytes.Buffer
	v, err := e.Sanitize(context.Background(), format.Part{Filename: "説明会.ppt"}, bytes.NewReader(data), &out)
	return out.String(), v, err
}

func TestExtract(t *testing.T) {
	got, v, err := extract(t, &Extractor{}, samplePPT(false))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"--- スライド 1 / slide 1 ---",
		"会議資料",
		"テキスト ボックス",
		"Body line 1",
		"line 2",
		"break",
		"(ノート / notes)",
		"Speaker notes",
		"--- スライド 2 / slide 2 ---",
		"Second slide",
	}, "\r\n") + "\r\n"
	if got != want {
		t.Errorf("text:\n%q\nwant\n%q", got, want)
	}
	for _, bad := range []string{"SECRET", "evil", "OLD"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q came through", bad)
		}
	}
	if v.Filename != "説明会.txt" || v.Type != "text/plain; charset=utf-8" || len(v.Notes) != 1 {
		t.Errorf("verdict %+v", v)
	}
}

// oneSave is an empty presentation saved once.
func oneSave() *stream {
	var s stream
	s.add(container(rtDocument, 0))
	s.save(1, 1, []int{0}, false)
	return &s
}

func TestRefused(t *testing.T) {
	noSave := oneSave()
	noSave.b = noSave.b[:noSave.offs[0]+8] // only the document: no persist directory, no save
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"encrypted edit", samplePPT(true), ErrEncrypted},
		{"encrypted token", oneSave().file(headerTokenEncrypted), ErrEncrypted},
		{"no save", noSave.file(headerTokenPlain), errNotPPT},
		{"not OLE", []byte("plain"), nil},
	} {
		_, _, err := extract(t, &Extractor{}, tc.data)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	if got, _, err := extract(t, &Extractor{}, oneSave().file(headerTokenPlain)); err != nil || got != "\r\n" {
		t.Errorf("empty presentation: %q, %v", got, err)
	}
}

// TestBrokenChain: where the chain of saves is broken, the saves are
// read in stream order, the newest last, and give the same text.
func TestBrokenChain(t *testing.T) {
	want, _, err := extract(t, &Extractor{}, samplePPT(false))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ole.Streams(samplePPT(false), nil, "Current User", "PowerPoint Document")
	if err != nil {
		t.Fatal(err)
	}
	cur, doc := st["Current User"], st["PowerPoint Document"]
	lastEdit := le.Uint32(cur[16:])
	loop := bytes.Clone(doc)
	le.PutUint32(loop[lastEdit+8+8:], lastEdit) // offsetLastEdit: itself
	nowhere := bytes.Clone(cur)
	le.PutUint32(nowhere[16:], 0) // offsetToCurrentEdit: the first record, not a save
	for name, s := range map[string][2][]byte{"loop": {cur, loop}, "nowhere": {nowhere, doc}} {
		if _, err := readEdits(s[0], s[1], 100); err == nil {
			t.Errorf("%s: the chain reads", name)
		}
		r, err := (&Extractor{}).fromStreams(context.Background(), s[0], s[1])
		if got := strings.ReplaceAll(r.text, "\n", "\r\n"); err != nil || got != want {
			t.Errorf("%s: %v\n%q\nwant\n%q", name, err, got, want)
		}
	}
}

// TestManySaves: saves that all point at one persist directory are
// bounded by the records limit, however many there are.
func TestManySaves(t *testing.T) {
	s := oneSave()
	pd := le.Uint32(s.b[s.edits[0]+8+12:])
	for i := 0; i < 3000; i++ {
		ue := bytes.Clone(s.b[s.edits[0] : s.edits[0]+8+28])
		le.PutUint32(ue[8+8:], s.edits[len(s.edits)-1])
		le.PutUint32(ue[8+12:], pd)
		s.edits = append(s.edits, uint32(len(s.b)))
		s.b = append(s.b, ue...)
	}
	if _, _, err := extract(t, &Extractor{MaxRecords: 1000}, s.file(headerTokenPlain)); !errors.Is(err, errLimit) {
		t.Errorf("err %v", err)
	}
	if _, _, err := extract(t, &Extractor{}, s.file(headerTokenPlain)); err != nil {
		t.Errorf("within the default limits: %v", err)
	}
}

func TestLimits(t *testing.T) {
	data := samplePPT(false)
	if _, _, err := extract(t, &Extractor{MaxRecords: 10}, data); !errors.Is(err, errLimit) {
		t.Errorf("records: %v", err)
	}
	if _, _, err := extract(t, &Extractor{MaxDepth: 3}, data); !errors.Is(err, errLimit) {
		t.Errorf("depth: %v", err)
	}
	got, v, err := extract(t, &Extractor{MaxText: 6}, data)
	if err != nil || !strings.HasPrefix(got, "--- スライド 1 / slide 1 ---\r\n会議資料\r\nテキ\r\n") || strings.Contains(got, "slide 2") || len(v.Notes) != 2 || !v.Notes[1].Loss {
		t.Errorf("cut: %q %+v %v", got, v, err)
	}
	var out bytes.Buffer
	if _, err := (&Extractor{}).Sanitize(context.Background(), format.Part{Budget: format.NewBudget(100, nil)}, bytes.NewReader(data), &out); !errors.Is(err, format.ErrBudget) {
		t.Errorf("budget: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Extractor{}).Sanitize(ctx, format.Part{}, bytes.NewReader(data), &out); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
