package cfbwrite

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/richardlehane/mscfb"
)

func TestBuildReadsBack(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 1000)
	small := []byte("hello, mini stream")
	data := Build(
		Entry{Name: "Small", Data: small},
		Entry{Name: "Big", Data: big},
		Entry{Name: "ObjectPool", Children: []Entry{{Name: "Inner", Data: []byte("inner")}}},
		Entry{Name: "Empty", Data: []byte{}},
		Entry{Name: "Other", Data: bytes.Repeat([]byte{7}, 100)},
	)
	r, err := mscfb.New(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for {
		e, err := r.Next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(e)
		got[strings.Join(append(e.Path, e.Name), "/")] = b
	}
	want := map[string][]byte{"Small": small, "Big": big, "ObjectPool/Inner": []byte("inner"), "Other": bytes.Repeat([]byte{7}, 100)}
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			t.Errorf("%s: got %d bytes %q, want %d", k, len(got[k]), got[k][:min(len(got[k]), 20)], len(v))
		}
	}
}
