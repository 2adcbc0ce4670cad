package pdf

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"mugai/sanitize/format"
)

// buildPDF writes objects (numbered from 1) with a correct xref table.
// extra, if given, is appended as an incremental update redefining
// objects (number → body) with its own xref section.
func buildPDF(objs []string, extra map[int]string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs)+1)
	for i, o := range objs {
		offsets[i+1] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for i := 1; i <= len(objs); i++ {
		fmt.Fprintf(&b, "%010d 00000 n \n", offsets[i])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	if len(extra) > 0 {
		prev := xref
		upd := map[int]int{}
		for nr, body := range extra {
			upd[nr] = b.Len()
			fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", nr, body)
		}
		x2 := b.Len()
		b.WriteString("xref\n")
		for nr, off := range upd {
			fmt.Fprintf(&b, "%d 1\n%010d 00000 n \n", nr, off)
		}
		fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, prev, x2)
	}
	return b.Bytes()
}

func stream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

func hostilePDF() []byte {
	return buildPDF([]string{
		/* 1 */ "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R /Names << /JavaScript 6 0 R /EmbeddedFiles 8 0 R >> /AcroForm << /Fields [] /XFA 10 0 R >> /AA << /WC 5 0 R >> >>",
		/* 2 */ "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		/* 3 */ "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /AA << /O 5 0 R >> /Annots [11 0 R 12 0 R 13 0 R 14 0 R] >>",
		/* 4 */ stream("", "BT 72 720 Td (Hello) Tj ET"),
		/* 5 */ "<< /Type /Action /S /JavaScript /JS (app.alert\\('PAYLOAD-JS'\\)) >>",
		/* 6 */ "<< /Names [(js) 5 0 R] >>",
		/* 7 */ stream("/Type /EmbeddedFile", "MZ-PAYLOAD-EXE"),
		/* 8 */ "<< /Names [(a.exe) 9 0 R] >>",
		/* 9 */ "<< /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>",
		/* 10 */ stream("", "<xdp:xdp>PAYLOAD-XFA</xdp:xdp>"),
		/* 11 */ "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /Launch /F (cmd.exe) >> >>",
		/* 12 */ "<< /Type /Annot /Subtype /FileAttachment /Rect [10 10 20 20] /FS 9 0 R >>",
		/* 13 */ "<< /Type /Annot /Subtype /Link /Rect [20 20 30 30] /A << /S /URI /URI (http://evil.example/) >> >>",
		/* 14 */ "<< /Type /Annot /Subtype /Link /Rect [30 30 40 40] /A << /S /GoTo /D [3 0 R /Fit] >> >>",
	}, map[int]string{
		// An incremental update that puts JavaScript back on the page.
		3: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /AA << /C 5 0 R >> /Annots [11 0 R 12 0 R 13 0 R 14 0 R] >>",
	})
}

func disarm(t *testing.T, d *Disarmer, data []byte) ([]byte, format.Verdict) {
	t.Helper()
	var out bytes.Buffer
	v, err := d.Sanitize(context.Background(), format.Part{Filename: "a.pdf"}, bytes.NewReader(data), &out)
	if err != nil {
		t.Fatalf("disarm: %v", err)
	}
	return out.Bytes(), v
}

func TestDisarm(t *testing.T) {
	in := hostilePDF()
	if err := Verify(in, false); err == nil {
		t.Fatal("Verify accepts the hostile input: the check proves nothing")
	}
	out, v := disarm(t, &Disarmer{}, in)
	if err := Verify(out, false); err != nil {
		t.Fatalf("output fails verification: %v", err)
	}
	for _, payload := range []string{"PAYLOAD-JS", "MZ-PAYLOAD-EXE", "PAYLOAD-XFA", "cmd.exe", "evil.example"} {
		if bytes.Contains(out, []byte(payload)) {
			t.Errorf("output still contains %s", payload)
		}
	}
	if n := bytes.Count(out, []byte("%%EOF")); n != 1 {
		t.Errorf("output has %d revisions, want one", n)
	}
	pc, err := read(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.XRefTable.EnsurePageCount(); err != nil || pc.XRefTable.PageCount != 1 {
		t.Errorf("pages: %d %v", pc.XRefTable.PageCount, err)
	}
	page, _, _, _ := pc.XRefTable.PageDict(1, false)
	annots, _ := pc.XRefTable.DereferenceArray(page["Annots"])
	if len(annots) != 3 { // Launch link (action gone), URI link (action gone), GoTo link
		t.Errorf("annotations left: %d", len(annots))
	}
	if got := actionTypes(t, out); got != "GoTo" {
		t.Errorf("annotation actions left: %q, want only the internal GoTo", got)
	}
	joined := v.EN()
	for _, want := range []string{"actions run on opening", "JavaScript and embedded files", "forms", "attached files", "program launch", "links to web pages", "page actions"} {
		if !strings.Contains(joined, want) {
			t.Errorf("removed %q lacks %q", joined, want)
		}
	}

	out, _ = disarm(t, &Disarmer{KeepURI: true}, in)
	if got := actionTypes(t, out); got != "URI,GoTo" || Verify(out, true) != nil {
		t.Errorf("KeepURI: actions %q", got)
	}
	var viaRule bytes.Buffer // the policy's options.uri: keep arrives in the part
	if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{Options: format.Options{KeepURI: true}}, bytes.NewReader(in), &viaRule); err != nil {
		t.Fatal(err)
	}
	if got := actionTypes(t, viaRule.Bytes()); got != "URI,GoTo" {
		t.Errorf("options.uri keep: actions %q", got)
	}
}

// actionTypes lists the /S of every annotation action on page 1, parsed
// (the writer may compress objects into object streams).
func actionTypes(t *testing.T, pdf []byte) string {
	t.Helper()
	pc, err := read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.XRefTable.EnsurePageCount(); err != nil {
		t.Fatal(err)
	}
	page, _, _, err := pc.XRefTable.PageDict(1, false)
	if err != nil {
		t.Fatal(err)
	}
	annots, _ := pc.XRefTable.DereferenceArray(page["Annots"])
	var out []string
	for _, a := range annots {
		d, _ := pc.XRefTable.DereferenceDict(a)
		if act, ok := d.Find("A"); ok {
			ad, _ := pc.XRefTable.DereferenceDict(act)
			if s := ad.NameEntry("S"); s != nil {
				out = append(out, *s)
			}
		}
	}
	return strings.Join(out, ",")
}

func TestEncryptedAndBroken(t *testing.T) {
	enc := buildPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [] /Count 0 >>",
		"<< /Filter /Standard /V 1 /R 2 /O (0123456789abcdef0123456789abcdef) /U (0123456789abcdef0123456789abcdef) /P -4 >>",
	}, nil)
	enc = bytes.Replace(enc, []byte("/Root 1 0 R >>"), []byte("/Root 1 0 R /Encrypt 3 0 R /ID [(a)(a)] >>"), 1)
	var out bytes.Buffer
	if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(enc), &out); err == nil {
		t.Error("encrypted PDF accepted")
	}
	if _, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{}, strings.NewReader("%PDF-1.4\ngarbage"), &out); err == nil {
		t.Error("garbage accepted")
	}
}

// FuzzDisarm: whatever the disarmer accepts, its output passes Verify and
// the tests' own walk of every reachable object finds nothing active.
func FuzzDisarm(f *testing.F) {
	f.Add(hostilePDF())
	for _, m := range []map[string][]byte{hostileOutlines(), hostileElsewhere()} {
		for _, in := range m {
			f.Add(in)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keepURI := len(data)%2 == 1
		var out bytes.Buffer
		if _, err := (&Disarmer{KeepURI: keepURI}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(data), &out); err != nil {
			return
		}
		if err := Verify(out.Bytes(), keepURI); err != nil {
			t.Fatalf("accepted output fails verification: %v", err)
		}
		if got := findActive(t, out.Bytes(), keepURI); len(got) > 0 {
			t.Fatalf("accepted output holds active content: %v", got)
		}
	})
}
