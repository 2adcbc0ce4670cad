package jptest

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/richardlehane/mscfb"
)

// TestCFBReadsBack: what CFB writes, an OLE2 reader reads: the root class,
// nested storages, streams in the mini stream and in sectors of their own.
func TestCFBReadsBack(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 1000)
	b := CFB(IchitaroClass,
		Entry{Path: "DocumentText", Data: []byte("SsmgV.01")},
		Entry{Path: "DocumentMacro/Macros/BaseStorage0/MacrosStream", Data: []byte{0, 0}},
		Entry{Path: "Big", Data: big},
		Entry{Path: "Empty", Data: []byte{}},
	)
	doc, err := mscfb.New(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID() != IchitaroClass {
		t.Errorf("root class %s", doc.ID())
	}
	got := map[string][]byte{}
	for {
		e, err := doc.Next()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(e)
		got[strings.Join(append(e.Path, e.Name), "/")] = data
	}
	want := map[string][]byte{
		"DocumentText": []byte("SsmgV.01"), "DocumentMacro/Macros/BaseStorage0/MacrosStream": {0, 0}, "Big": big, "Empty": {},
		"DocumentMacro": {}, "DocumentMacro/Macros": {}, "DocumentMacro/Macros/BaseStorage0": {},
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
			t.Errorf("%s: %d bytes (present %v), want %d", k, len(g), ok, len(v))
		}
	}
}
