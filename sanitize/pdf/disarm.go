// Package pdf disarms PDF documents with pdfcpu's low-level model: the
// file is read without validation (real-world PDFs fail validation), the
// keys that run or fetch anything are deleted from the catalog, the pages
// and the annotations, and a fresh single-revision file is written, in
// which objects no longer reachable (the JavaScript, the embedded files)
// are gone. The output is read again and every object checked before it
// is accepted.
package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"mugai/sanitize/format"
)

// Types lists the detected types the disarmer takes.
var Types = []string{"application/pdf"}

// ErrEncrypted: an encrypted PDF cannot be inspected.
var ErrEncrypted = errors.New("pdf: encrypted")

// Disarmer removes active content from PDFs.
type Disarmer struct {
	KeepURI  bool  // keep links to web pages (URI actions) for every file; rules can ask per file
	MaxInput int64 // default 64 MiB
}

var _ format.Sanitizer = (*Disarmer)(nil)

var disableConfig sync.Once

// Name implements format.Sanitizer.
func (d *Disarmer) Name() string { return "pdf" }

// catalogKeys run, fetch or carry active content.
var catalogKeys = []string{"OpenAction", "AA", "Names", "AcroForm", "URI", "Collection", "Perms"}

// badActions are the action types never kept.
var badActions = map[string]bool{
	"JavaScript": true, "Launch": true, "GoToR": true, "GoToE": true, "SubmitForm": true, "ImportData": true,
	"ResetForm": true, "Rendition": true, "Movie": true, "Sound": true, "RichMediaExecute": true, "Hide": true,
	"SetOCGState": true, "Trans": true, "GoTo3DView": true, "Named": false,
}

// badAnnots are annotation types removed whole.
var badAnnots = map[string]bool{
	"FileAttachment": true, "RichMedia": true, "3D": true, "Screen": true, "Movie": true, "Sound": true, "Widget": true,
}

// Sanitize implements format.Sanitizer.
func (d *Disarmer) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (v format.Verdict, err error) {
	defer catch(&err)
	max := d.MaxInput
	if max <= 0 {
		max = 64 << 20
	}
	data, err := format.ReadAll(in, max)
	if err != nil {
		return format.Verdict{}, fmt.Errorf("pdf: %w", err)
	}
	disableConfig.Do(api.DisableConfigDir) // never write a config file to the user's home
	pc, err := read(data)
	if err != nil {
		return format.Verdict{}, err
	}
	xt := pc.XRefTable
	removed := map[string]int{}
	keepURI := d.KeepURI || p.Options.KeepURI
	cat, err := xt.Catalog()
	if err != nil {
		return format.Verdict{}, fmt.Errorf("pdf: catalog: %w", err)
	}
	for _, k := range catalogKeys {
		if _, ok := cat.Find(k); ok {
			cat.Delete(k)
			removed[describeKey(k)]++
		}
	}
	if err := xt.EnsurePageCount(); err != nil {
		return format.Verdict{}, fmt.Errorf("pdf: pages: %w", err)
	}
	for i := 1; i <= xt.PageCount; i++ {
		if err := ctx.Err(); err != nil {
			return format.Verdict{}, err
		}
		page, _, _, err := xt.PageDict(i, false)
		if err != nil || page == nil {
			return format.Verdict{}, fmt.Errorf("pdf: page %d: %v", i, err)
		}
		if _, ok := page.Find("AA"); ok {
			page.Delete("AA")
			removed["page actions"]++
		}
		if err := d.cleanAnnots(xt, page, removed, keepURI); err != nil {
			return format.Verdict{}, err
		}
	}
	var buf bytes.Buffer
	if err := api.WriteContext(pc, &buf); err != nil {
		return format.Verdict{}, fmt.Errorf("pdf: write: %w", err)
	}
	if err := Verify(buf.Bytes(), keepURI); err != nil {
		return format.Verdict{}, err
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		return format.Verdict{}, err
	}
	return format.Verdict{Type: "application/pdf", Removed: describe(removed)}, nil
}

// catch turns a panic inside pdfcpu (it has several on malformed input)
// into an error, so the part fails closed with a reason instead of a stack.
func catch(err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("pdf: malformed document (pdfcpu: %v)", v)
	}
}

func read(data []byte) (*model.Context, error) {
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	pc, err := api.ReadContext(bytes.NewReader(data), conf)
	if err != nil {
		return nil, fmt.Errorf("pdf: read: %w", err)
	}
	if pc.XRefTable.Encrypt != nil {
		return nil, ErrEncrypted
	}
	return pc, nil
}

// cleanAnnots drops annotations that carry files, media or forms, and
// actions that run or fetch anything from the rest.
func (d *Disarmer) cleanAnnots(xt *model.XRefTable, page types.Dict, removed map[string]int, keepURI bool) error {
	obj, ok := page.Find("Annots")
	if !ok {
		return nil
	}
	arr, err := xt.DereferenceArray(obj)
	if err != nil {
		page.Delete("Annots") // unreadable: drop them all
		removed["annotations"]++
		return nil
	}
	var kept types.Array
	for _, a := range arr {
		annot, err := xt.DereferenceDict(a)
		if err != nil || annot == nil {
			removed["annotations"]++
			continue
		}
		if sub := annot.NameEntry("Subtype"); sub != nil && badAnnots[*sub] {
			removed[describeAnnot(*sub)]++
			continue
		}
		if _, ok := annot.Find("AA"); ok {
			annot.Delete("AA")
			removed["annotation actions"]++
		}
		if act, ok := annot.Find("A"); ok {
			if drop, what := badAction(xt, act, keepURI); drop {
				annot.Delete("A")
				removed[what]++
			}
		}
		kept = append(kept, a)
	}
	if len(kept) == 0 {
		page.Delete("Annots")
	} else {
		page.Update("Annots", kept)
	}
	return nil
}

// badAction reports whether an action must go: any type we do not keep,
// URI unless kept by option, and any chain (/Next) at all.
func badAction(xt *model.XRefTable, obj types.Object, keepURI bool) (bool, string) {
	act, err := xt.DereferenceDict(obj)
	if err != nil || act == nil {
		return true, "actions"
	}
	if _, chained := act.Find("Next"); chained {
		return true, "chained actions"
	}
	s := act.NameEntry("S")
	switch {
	case s == nil:
		return true, "actions"
	case *s == "URI":
		return !keepURI, "links to web pages"
	case *s == "GoTo" || *s == "Named":
		return false, ""
	case badActions[*s]:
		return true, describeKey(*s)
	}
	return true, "actions"
}

func describeKey(k string) string {
	switch k {
	case "OpenAction", "AA":
		return "actions run on opening"
	case "Names":
		return "JavaScript and embedded files (name trees)"
	case "AcroForm":
		return "forms (AcroForm/XFA)"
	case "JavaScript":
		return "JavaScript"
	case "Launch":
		return "program launch actions"
	case "GoToR", "GoToE":
		return "links to other files"
	case "SubmitForm", "ImportData", "ResetForm":
		return "form submissions"
	}
	return strings.ToLower(k) + " entries"
}

func describeAnnot(sub string) string {
	switch sub {
	case "FileAttachment":
		return "attached files"
	case "Widget":
		return "form fields"
	}
	return "multimedia and 3D content"
}

func describe(removed map[string]int) []string {
	var out []string
	for what, n := range removed {
		out = append(out, fmt.Sprintf("%s (%d)", what, n))
	}
	sort.Strings(out)
	if len(out) == 0 {
		out = []string{"nothing active was found; the file was rewritten as one fresh revision"}
	}
	return out
}
