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
	keepURI := d.KeepURI || p.Options.KeepURI
	removed, err := scrub(ctx, pc.XRefTable, keepURI)
	if err != nil {
		return format.Verdict{}, err
	}
	var buf bytes.Buffer
	if err := api.WriteContext(pc, &buf); err != nil {
		return format.Verdict{}, fmt.Errorf("pdf: write: %w", err)
	}
	if err := verify(ctx, buf.Bytes(), keepURI); err != nil {
		return format.Verdict{}, err
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		return format.Verdict{}, err
	}
	return format.Verdict{Type: "application/pdf", Notes: []format.Note{describe(removed)}}, nil
}

// scrub removes active content from the document in place: the keys of
// the catalog, the actions and annotations of the pages, what the
// bookmarks may not keep, then every action anywhere. It returns what was
// removed, counted by description.
func scrub(ctx context.Context, xt *model.XRefTable, keepURI bool) (map[string]int, error) {
	removed := map[string]int{}
	cat, err := xt.Catalog()
	if err != nil || cat == nil {
		return nil, fmt.Errorf("pdf: catalog: %v", err)
	}
	if err := xt.EnsurePageCount(); err != nil {
		return nil, fmt.Errorf("pdf: pages: %w", err)
	}
	pages, err := pageSet(xt, cat)
	if err != nil {
		return nil, err
	}
	// Named destinations are read before the name trees go: links and
	// bookmarks to a page of this document are rewritten to it.
	s := &scrubber{xt: xt, keepURI: keepURI, ds: newDests(xt, cat, pages), removed: removed, c: counter{ctx: ctx}}
	for _, k := range catalogKeys {
		if _, ok := cat.Find(k); ok {
			cat.Delete(k)
			removed[describeKey(k)]++
		}
	}
	if err := s.cleanPages(ctx, pages); err != nil {
		return nil, err
	}
	if err := s.cleanOutline(cat); err != nil {
		return nil, err
	}
	// Then every object of the file, wherever an action hides.
	if err := s.scrubAll(); err != nil {
		return nil, err
	}
	return removed, nil
}

// cleanPages removes the additional actions of each page (pages holds
// their object numbers) and cleans its annotations.
func (s *scrubber) cleanPages(ctx context.Context, pages map[int]bool) error {
	xt := s.xt
	for nr := range pages {
		if err := ctx.Err(); err != nil {
			return err
		}
		gen := 0
		if e := xt.Table[nr]; e != nil && e.Generation != nil {
			gen = *e.Generation
		}
		page, err := xt.DereferenceDict(*types.NewIndirectRef(nr, gen))
		if err != nil || page == nil {
			return fmt.Errorf("pdf: page object %d: %v", nr, err)
		}
		if _, ok := page.Find("AA"); ok {
			page.Delete("AA")
			s.removed["page actions"]++
		}
		if err := s.cleanAnnots(page); err != nil {
			return err
		}
	}
	return nil
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

// scrubber removes active content from one document.
type scrubber struct {
	xt      *model.XRefTable
	keepURI bool
	ds      *dests
	removed map[string]int
	c       counter
}

// cleanAnnots drops annotations that carry files, media or forms, and
// actions that run or fetch anything from the rest.
func (s *scrubber) cleanAnnots(page types.Dict) error {
	xt, removed := s.xt, s.removed
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
		if err := s.c.step(); err != nil {
			return err
		}
		annot, err := xt.DereferenceDict(a)
		if err != nil || annot == nil {
			removed["annotations"]++
			continue
		}
		if sub := annot.NameEntry("Subtype"); sub != nil && badAnnots[*sub] {
			removed[describeAnnot(*sub)]++
			continue
		}
		if badObject(annot) {
			removed["annotations"]++
			continue
		}
		if _, ok := annot.Find("AA"); ok {
			annot.Delete("AA")
			removed["annotation actions"]++
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

// scrubAll walks every object of the file (and every dictionary and array
// nested in one): additional and open actions, scripts, embedded and
// related files, private application data are deleted; every action is
// replaced by a fresh one of a kept kind or deleted; every destination is
// rewritten to a page of this document or deleted; references to
// dangerous objects are cut. Its bounds are errors.
func (s *scrubber) scrubAll() error {
	refs, err := tableRefs(s.xt)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if err := s.c.step(); err != nil {
			return err
		}
		o, err := s.xt.Dereference(r)
		if err != nil || o == nil {
			continue // unreadable: a reader cannot reach it either; the verifier reads the output again
		}
		stack := []types.Object{o}
		for len(stack) > 0 {
			if err := s.c.step(); err != nil {
				return err
			}
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch x := o.(type) {
			case types.Dict:
				s.dict(x)
			case types.StreamDict:
				s.dict(x.Dict)
			case types.Array:
				s.array(x)
			default:
				continue
			}
			stack = push(stack, o)
		}
	}
	return nil
}

func (s *scrubber) dict(d types.Dict) {
	for k, v := range d {
		switch k {
		case "AA":
			delete(d, k)
			s.removed["other automatic actions"]++
		case "OpenAction":
			delete(d, k)
			s.removed["actions run on opening"]++
		case "JS", "JavaScript":
			delete(d, k)
			s.removed["JavaScript"]++
		case "EF", "RF", "AF", "EmbeddedFiles", "EmbeddedFile":
			delete(d, k)
			s.removed["embedded and associated files"]++
		case "XFA":
			delete(d, k)
			s.removed[describeKey("AcroForm")]++
		case "RichMediaContent":
			delete(d, k)
			s.removed[describeAnnot("RichMedia")]++
		case "PieceInfo":
			delete(d, k)
			s.removed["private application data"]++
		case "A", "PA":
			o, err := s.xt.Dereference(v)
			a, isDict := o.(types.Dict)
			switch {
			case err == nil && isDict && (a["S"] != nil || actionLike(a)):
				s.action(d, k, a)
			case k == "PA":
				delete(d, k)
				s.removed["actions"]++
			}
		case "Dest":
			if dest := s.ds.resolve(v); dest != nil {
				d[k] = dest
			} else {
				delete(d, k)
				s.removed["links to destinations outside the document"]++
			}
		default:
			x, ok := s.asDict(v)
			if !ok {
				continue
			}
			if badObject(x) {
				delete(d, k)
				s.removed[describeAnnot(nameOf(x["Subtype"]))]++
			} else if actionLike(x) {
				s.action(d, k, x)
			}
		}
	}
}

// asDict is v as a dictionary, directly or through a reference; ok is
// false for anything else (the walk reaches those objects by itself).
func (s *scrubber) asDict(v types.Object) (types.Dict, bool) {
	if _, isRef := v.(types.IndirectRef); !isRef {
		if _, isDict := v.(types.Dict); !isDict {
			return nil, false
		}
	}
	o, err := s.xt.Dereference(v)
	x, isDict := o.(types.Dict)
	return x, err == nil && isDict
}

// action replaces d[k] by a fresh kept action, or deletes it.
func (s *scrubber) action(d types.Dict, k string, a types.Dict) {
	if fresh, what := sanitizeAction(s.xt, a, s.keepURI, s.ds); fresh != nil {
		d[k] = fresh
	} else {
		delete(d, k)
		s.removed[what]++
	}
}

// array nulls elements that are dangerous objects or actions not kept.
func (s *scrubber) array(a types.Array) {
	for i, v := range a {
		x, ok := s.asDict(v)
		if !ok {
			continue
		}
		if badObject(x) {
			a[i] = nil
			s.removed[describeAnnot(nameOf(x["Subtype"]))]++
		} else if actionLike(x) {
			fresh, what := sanitizeAction(s.xt, x, s.keepURI, s.ds)
			a[i] = fresh
			if fresh == nil {
				a[i] = nil
				s.removed[what]++
			}
		}
	}
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

// describe is the note on what was removed: each kind with its count,
// in Japanese and English.
func describe(removed map[string]int) format.Note {
	whats := make([]string, 0, len(removed))
	for what := range removed {
		whats = append(whats, what)
	}
	sort.Strings(whats)
	var ja, en []string
	for _, what := range whats {
		ja = append(ja, fmt.Sprintf("%s %d 件", japaneseOf(what), removed[what]))
		en = append(en, fmt.Sprintf("%s (%d)", what, removed[what]))
	}
	if len(whats) == 0 {
		return format.Note{JA: "動作する内容は見つかりませんでした。ファイルは新しく書き直しました。",
			EN: "Nothing active was found; the file was rewritten as one fresh revision."}
	}
	return format.Note{JA: "次の動作する内容を取り除きました: " + strings.Join(ja, "、") + "。",
		EN: "Removed: " + strings.Join(en, ", ") + "."}
}

// whatJA names in Japanese what describeKey, describeAnnot, the scrubber,
// the outline and sanitizeAction count in English.
var whatJA = map[string]string{
	"actions run on opening":                     "開いたときに動くアクション",
	"JavaScript and embedded files (name trees)": "JavaScript と埋め込みファイル（名前ツリー）",
	"forms (AcroForm/XFA)":                       "フォーム（AcroForm/XFA）",
	"JavaScript":                                 "JavaScript",
	"program launch actions":                     "プログラムを起動するアクション",
	"links to other files":                       "他のファイルへのリンク",
	"form submissions":                           "フォームの送信",
	"attached files":                             "添付ファイル",
	"form fields":                                "フォームの入力欄",
	"multimedia and 3D content":                  "動画・音声・3D の内容",
	"page actions":                               "ページのアクション",
	"annotations":                                "注釈",
	"annotation actions":                         "注釈のアクション",
	"other automatic actions":                    "その他の自動アクション",
	"embedded and associated files":              "埋め込みファイル・関連ファイル",
	"private application data":                   "アプリケーション独自のデータ",
	"actions":                                    "アクション",
	"chained actions":                            "連鎖するアクション",
	"named actions":                              "名前付きアクション",
	"links to web pages":                         "Web ページへのリンク",
	"links to structure elements":                "構造要素へのリンク",
	"links to destinations outside the document": "文書外の移動先へのリンク",
	"bookmarks outside the bookmark tree":        "しおりの木の外にあるしおり",
	"other bookmark entries":                     "しおりのその他の項目",
	"uri entries":                                "URI の設定",
	"collection entries":                         "ポートフォリオの設定",
	"perms entries":                              "権限の設定",
}

// japaneseOf is what in Japanese: the table, the bookmarks' forms of its
// entries, else the English words as they are.
func japaneseOf(what string) string {
	if ja, ok := whatJA[what]; ok {
		return ja
	}
	if base, ok := strings.CutSuffix(what, " (bookmarks)"); ok {
		return japaneseOf(base) + "（しおり）"
	}
	if strings.HasPrefix(what, "bookmarks, whole") {
		return "しおり全体"
	}
	return what
}
