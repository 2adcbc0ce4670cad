package ole

import (
	"errors"
	"testing"

	"mugai/sanitize/format"
	"mugai/sanitize/legacy/internal/cfbwrite"
)

func TestStreams(t *testing.T) {
	data := cfbwrite.Build(
		cfbwrite.Entry{Name: "ObjectPool", Children: []cfbwrite.Entry{{Name: "WordDocument", Data: []byte("embedded")}}},
		cfbwrite.Entry{Name: "WordDocument", Data: []byte("root")},
		cfbwrite.Entry{Name: "Other", Data: []byte("other")},
		cfbwrite.Entry{Name: "1table", Data: []byte("table")},
	)
	got, err := Streams(data, nil, "WordDocument", "1Table")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got["WordDocument"]) != "root" || string(got["1Table"]) != "table" {
		t.Errorf("got %q", got)
	}
	if _, err := Streams(data, format.NewBudget(2, nil), "WordDocument"); !errors.Is(err, format.ErrBudget) {
		t.Errorf("budget: %v", err)
	}
	if _, err := Streams([]byte("nope"), nil, "WordDocument"); !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed: %v", err)
	}
}
