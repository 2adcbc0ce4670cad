package rtffile

import (
	"bytes"
	"context"
	"testing"

	"mugai/sanitize/format"
)

func TestHasObjects(t *testing.T) {
	tests := []struct {
		rtf  string
		want bool
	}{
		// objects, however they are written
		{`{\rtf1{\object\objemb{\*\objclass Equation.3}{\*\objdata 0105}}}`, true},
		{"{\\rtf1{\\ob\r\nject\\objlink x}}", true}, // Word ignores the line break
		{`{\rtf1 {\OBJDATA 01}}`, true},
		// none
		{`{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Agenda\par object\par}`, false},
	}
	for _, tc := range tests {
		if got := HasObjects([]byte(tc.rtf)); got != tc.want {
			t.Errorf("HasObjects(%q) = %v", tc.rtf, got)
		}
	}
}

func TestExtractor(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" is an error
	}{
		{"text kept", "\xef\xbb\xbf{\\rtf1\\ansi\\ansicpg932 Agenda\\par \\'89\\'ef\\'8b\\'63\\par}", "Agenda\r\n会議\r\n"},
		{"not RTF", "Agenda", ""},
		{"objects", `{\rtf1{\object\objemb x}}`, ""},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		v, err := Extractor{}.Sanitize(context.Background(), format.Part{Filename: "議事.rtf"}, bytes.NewReader([]byte(tc.in)), &out)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: no error", tc.name)
		case tc.want != "" && (err != nil || out.String() != tc.want || v.Filename != "議事.txt"):
			t.Errorf("%s: %q, %+v, %v", tc.name, out.String(), v, err)
		}
	}
}
