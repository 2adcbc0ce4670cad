package textfile

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"

	"mugai/sanitize/format"
)

// csvFieldsUnder returns every field a spreadsheet could see in out when
// it reads it with sep: the fields a CSV reader finds, and (for readers
// that take quotes differently) every piece between separators and line
// breaks.
func csvFieldsUnder(out []byte, sep rune) []string {
	out = bytes.TrimPrefix(out, []byte("\ufeff"))
	var fields []string
	r := csv.NewReader(bytes.NewReader(out))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes = sep, -1, true
	if recs, err := r.ReadAll(); err == nil {
		for _, rec := range recs {
			fields = append(fields, rec...)
		}
	}
	fields = append(fields, strings.FieldsFunc(string(out), func(r rune) bool { return r == sep || r == '\n' || r == '\r' })...)
	return fields
}

// runsAsFormula reports a field a spreadsheet would evaluate: after any
// spaces, tabs, line breaks and quotes it starts with a trigger, it is not
// a number and it is not neutralised with an apostrophe.
func runsAsFormula(field string) bool {
	c := strings.TrimLeft(field, " \t\r\n\"\u3000")
	if c == "" || strings.HasPrefix(c, "'") {
		return false
	}
	r, _ := utf8.DecodeRuneInString(c)
	if !strings.ContainsRune("=+-@＝＋－＠", r) {
		return false
	}
	for _, r := range c { // numbers, signs, separators, quotes and line breaks only (no letters): nothing to run
		if !strings.ContainsRune("0123456789.,;+- \t\r\n\"'\u3000", r) {
			return true
		}
	}
	return !strings.ContainsAny(c, "0123456789")
}

func sanitizeCSV(t testing.TB, name string, in []byte) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	_, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{Filename: name}, bytes.NewReader(in), &out)
	return out.Bytes(), err
}

func checkNoFormula(t testing.TB, in, out []byte) {
	t.Helper()
	for _, sep := range []rune{',', '\t', ';'} {
		for _, f := range csvFieldsUnder(out, sep) {
			if runsAsFormula(f) {
				t.Fatalf("read with %q, field %q of\n%q\nfrom\n%q\nis a formula", sep, f, out, in)
			}
		}
	}
}

func TestCSVEitherSeparator(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // lines of the output (after the BOM), when given
	}{
		{"tab file, comma inside", "a\tb\tc\nx,=cmd|' /C calc'!A0\t2\t3\n", []string{"a\tb\tc", "x,'=cmd|' /C calc'!A0\t2\t3"}},
		{"tab file, formula at start", "a\tb\n=1+1\t@SUM(A1)\n", []string{"a\tb", "'=1+1\t'@SUM(A1)"}},
		{"comma file, tab inside", "a,b\nx\t=HYPERLINK(\"http://e\"),2\n", []string{"a,b", "\"x\t'=HYPERLINK(\"\"http://e\"\")\",2"}},
		{"comma file, quoted newline", "a,b\n\"x\n=cmd\",2\n", nil},
		{"semicolon inside", "a,b\nx;=cmd,2\n", []string{"a,b", "x;'=cmd,2"}},
		{"full-width and spaces", "a,b\n＝1+1, =2\n", nil},
		{"quote after separator", "a\tb\nx,\"=cmd\"\t1\n", nil},
		{"lone tab cells", "\t\n\t\t\n", nil},
		{"tab at start of cell", "a,b\n\"\tx\",y\n", []string{"a,b", "'\tx,y"}},
		{"negative numbers stay", "a,b\n-12.5,+3\n-1,000\t-2\n", []string{"a,b", "-12.5,+3", "-1,000\t-2"}},
		{"number then formula across separators", "a,b\n-1,2+cmd|' /C calc'!A0\n", []string{"a,b", "'-1,2+cmd|' /C calc'!A0"}},
		{"number then formula in tab file", "a\tb\n-1\t2,+cmd|x\n", []string{"a\tb", "'-1\t2,'+cmd|x"}}, // read with semicolons, the row is one field,
		{"minus text is neutralised", "a\tb\n1,-x\t2\n", []string{"a\tb", "1,'-x\t2"}},
		{"dde in tab file", "h1\th2\nok,+cmd|'/c calc'!A1\tok\n", []string{"h1\th2", "ok,'+cmd|'/c calc'!A1\tok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, name := range []string{"a.csv", "a.tsv"} {
				out, err := sanitizeCSV(t, name, []byte(tc.in))
				if err != nil {
					t.Fatal(err)
				}
				checkNoFormula(t, []byte(tc.in), out)
				if tc.want != nil {
					got := strings.Split(strings.TrimSuffix(strings.TrimPrefix(string(out), "\ufeff"), "\r\n"), "\r\n")
					if strings.Join(got, "|") != strings.Join(tc.want, "|") {
						t.Errorf("%s: got %q, want %q", name, got, tc.want)
					}
				}
			}
		})
	}
}

func TestIsFormula(t *testing.T) {
	for cell, want := range map[string]bool{
		"=1+1": true, " =1": true, "\t=1": true, "\n@x": true, "\"=x": true, "＝x": true, "－x": true, "-": true,
		"-12.5": false, "+81": false, "-1,000": false, "-1,2+cmd|x": true, "-1e5": true, "+81 3 1234": false, "-1;+2": false, "'=1": false, "abc": false, "": false, "\t": false, " ": false,
	} {
		if got := isFormula(cell); got != want {
			t.Errorf("isFormula(%q) = %v", cell, got)
		}
	}
}

// FuzzCSVEitherSeparator checks what FuzzTextFile checks for commas, for
// every separator a spreadsheet may open the file with: no field of the
// output, read with comma, tab or semicolon (by a CSV reader, or split
// without regard to quotes), runs as a formula.
func FuzzCSVEitherSeparator(f *testing.F) {
	for _, s := range []string{"a\tb\nx,=cmd|' /C calc'!A0\t2\n", "\t", "a,b\n\"x\n=cmd\",2\n", "a,b\nx\t=1,2\n", "a\tb\n1,\"=x\"\t2\n",
		"a,b\n-1,+2\n", "a;b\n=x;@y\n", "\"\t\"\n", "a\tb\n\",\t=x"} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, tsv bool) {
		name := "a.csv"
		if tsv {
			name = "a.tsv"
		}
		out, err := sanitizeCSV(t, name, in)
		if err != nil {
			return
		}
		if !utf8.Valid(out) {
			t.Fatal("output is not UTF-8")
		}
		checkNoFormula(t, in, out)
	})
}

func FuzzTextFile(f *testing.F) {
	f.Add([]byte("a,b\r\n=1+1,@x\r\n"), true)
	f.Add([]byte("plain\x82\xa0text"), false)
	f.Fuzz(func(t *testing.T, in []byte, csvName bool) {
		name := "a.txt"
		if csvName {
			name = "a.csv"
		}
		var out bytes.Buffer
		if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{Filename: name}, bytes.NewReader(in), &out); err != nil {
			return
		}
		if !utf8.Valid(out.Bytes()) {
			t.Fatal("output is not UTF-8")
		}
		if csvName {
			r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out.Bytes(), []byte("\ufeff"))))
			r.FieldsPerRecord, r.LazyQuotes = -1, true
			recs, err := r.ReadAll()
			if err != nil {
				return // a tab-separated file written with tabs
			}
			for _, rec := range recs {
				for _, cell := range rec {
					if isFormula(cell) {
						t.Fatalf("formula cell %q survived", cell)
					}
				}
			}
		}
	})
}

// TestNotes: what the verdict tells staff, in both languages, with the
// English counted right; a byte order mark alone is no hidden text.
func TestNotes(t *testing.T) {
	tests := []struct {
		name, file, in string
		ja, en         []string // the notes, in order
	}{
		// Byte order marks and hidden characters
		{"BOM only", "memo.txt", "\ufeffお知らせ\r\n", nil, nil},
		{"BOM and one zero-width space", "memo.txt", "\ufeffお\u200bしらせ\r\n",
			[]string{"画面に表示されない文字や文字の向きを変える文字を 1 個取り除きました。"},
			[]string{"Removed 1 invisible or direction-changing character."}},
		{"two bidi controls", "memo.txt", "a\u202eb\u202cc\r\n",
			[]string{"画面に表示されない文字や文字の向きを変える文字を 2 個取り除きました。"},
			[]string{"Removed 2 invisible or direction-changing characters."}},
		// Formulas in CSV
		{"one formula", "list.csv", "a,b\r\n1,=1+1\r\n", []string{"表計算ソフトで数式として実行されるセル 1 個を、先頭に ' を付けて文字として扱うようにしました。"},
			[]string{"1 cell that a spreadsheet would run as a formula was neutralised (an apostrophe put before each)."}},
		{"two formulas", "list.csv", "a,b\r\n=1+1,=2+2\r\n", []string{"表計算ソフトで数式として実行されるセル 2 個を、先頭に ' を付けて文字として扱うようにしました。"},
			[]string{"2 cells that a spreadsheet would run as formulas were neutralised (an apostrophe put before each)."}},
		{"BOM-only CSV", "list.csv", "\ufeffa,b\r\n1,2\r\n", nil, nil},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		v, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{Filename: tc.file}, strings.NewReader(tc.in), &out)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var ja, en []string
		for _, n := range v.Notes {
			ja, en = append(ja, n.JA), append(en, n.EN)
			if n.Loss {
				t.Errorf("%s: nothing is lost: %+v", tc.name, n)
			}
		}
		if strings.Join(ja, "|") != strings.Join(tc.ja, "|") || strings.Join(en, "|") != strings.Join(tc.en, "|") {
			t.Errorf("%s: notes\n%q\n%q\nwant\n%q\n%q", tc.name, ja, en, tc.ja, tc.en)
		}
	}
}
