package pdf

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	pdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	wapi "github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"mugai/sanitize/format"
)

// fontRoot is what pdfium sees as its file system: one Japanese font
// (IPAex Gothic, IPA Font License v1.0, see fontroot/LICENSE-ipaexfont),
// read-only, so that PDFs whose Japanese fonts are not embedded do not
// render blank. Nothing of the host is visible inside the sandbox.
//
//go:embed fontroot
var fontRoot embed.FS

// Engine is a pool of sandboxed pdfium instances (WebAssembly on wazero,
// no cgo), shared by the Flattener and the Text extractor. It starts on
// first use: compiling the module takes seconds, less with CacheDir.
type Engine struct {
	CacheDir    string        // wazero compilation cache (faster start); empty: none
	MemoryPages uint32        // WebAssembly memory limit in 64 KiB pages; default 8192 (512 MiB)
	Instances   int           // parallel pdfium instances; default the core count
	InitTimeout time.Duration // waiting for an instance; default 60s

	once    sync.Once
	pool    pdfium.Pool
	size    int // instances in the pool
	initErr error
	fonts   fs.FS        // what pdfium sees; nil: the embedded font root
	killed  atomic.Int64 // instances killed because their context ended (tests)
}

// Flattener renders PDF pages to pixels in pdfium and rebuilds an
// image-only PDF: nothing of the original document structure, fonts,
// scripts or objects survives, only the look of its pages.
type Flattener struct {
	Engine      *Engine
	DPI         int   // default 150
	JPEGQuality int   // default 80
	MaxPages    int   // pages rendered at most; later ones are dropped (said so); default 50
	MaxPixels   int64 // per page; the DPI is lowered for larger pages; default 25 million

	encoding encoding // how page images are stored; zero: chosen per page
}

var _ format.Sanitizer = (*Flattener)(nil)

// Name implements format.Sanitizer.
func (f *Flattener) Name() string { return "pdf-flatten" }

func (e *Engine) init() {
	rc := wazero.NewRuntimeConfig().
		WithCoreFeatures(wapi.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		WithMemoryLimitPages(orU32(e.MemoryPages, 8192)).
		WithCloseOnContextDone(true)
	if e.CacheDir != "" {
		if cache, err := wazero.NewCompilationCacheWithDir(e.CacheDir); err == nil {
			rc = rc.WithCompilationCache(cache)
		}
	}
	root := e.fonts
	if root == nil {
		var err error
		if root, err = fs.Sub(fontRoot, "fontroot"); err != nil {
			e.initErr = err
			return
		}
	}
	n := e.Instances
	if n <= 0 {
		n = runtime.NumCPU()
	}
	e.size = n
	// An explicit FSConfig: go-pdfium mounts the host's / read-write by default.
	e.pool, e.initErr = webassembly.Init(webassembly.Config{
		// Linear memory outside the Go heap, given back when its
		// instance closes (see mmapMemory).
		Context: experimental.WithMemoryAllocator(context.Background(), mmapAllocator),
		MinIdle: 1, MaxIdle: n, MaxTotal: n,
		FSConfig:      wazero.NewFSConfig().WithFSMount(root, "/"),
		RuntimeConfig: rc,
	})
	// Compiling pdfium (no cached compilation) takes some 300 MB of Go
	// heap for seconds: the optimizing compiler's pools grow to the
	// size of pdfium's largest function. Nothing of it stays live, but
	// the runtime would give it back to the system only over minutes.
	debug.FreeOSMemory()
}

// document opens data in an instance and calls fn with it and its page
// count; the document and the instance are released afterwards. When ctx
// ends first, the instance is killed at once (any call in it returns) and
// the error wraps ctx's.
func (e *Engine) document(ctx context.Context, data []byte, fn func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, pages int) error) error {
	_, err := e.open(ctx, data, orDur(e.InitTimeout, 60*time.Second), fn)
	return err
}

// open is document waiting at most wait for a free instance; ok is false
// when none came free in that time.
func (e *Engine) open(ctx context.Context, data []byte, wait time.Duration, fn func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, pages int) error) (ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("pdfium: %w", err)
	}
	e.once.Do(e.init)
	if e.initErr != nil {
		return false, fmt.Errorf("pdfium: %w", e.initErr)
	}
	// From borrowing the instance (the pool calls into it) to the end of
	// the last call in it: its memory stays mapped until then.
	leave := calls.enter()
	defer leave()
	wctx, cancel := context.WithTimeout(ctx, wait)
	inst, err := e.pool.GetInstanceWithContext(wctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Errorf("pdfium: %w", ctx.Err())
		}
		return false, fmt.Errorf("pdfium: %w", err)
	}
	// Exactly one of Close (done) and Kill (ctx ended) releases the
	// instance; Kill interrupts a call in progress (the runtime is
	// configured to close modules whose context ends).
	var mu sync.Mutex
	released := false
	release := func(kill bool) {
		mu.Lock()
		defer mu.Unlock()
		if released {
			return
		}
		released = true
		if kill {
			e.killed.Add(1)
			inst.Kill()
		} else {
			inst.Close()
		}
	}
	stop := context.AfterFunc(ctx, func() { release(true) })
	defer func() {
		stop()
		release(false)
		if err != nil && ctx.Err() != nil && !budgetErr(err) {
			err = fmt.Errorf("pdfium: stopped: %w", ctx.Err())
		}
	}()
	doc, err := inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return true, fmt.Errorf("pdfium: open: %w", err)
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
	count, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil || count.PageCount <= 0 {
		return true, fmt.Errorf("pdfium: no pages (%v)", err)
	}
	return true, fn(inst, doc.Document, count.PageCount)
}

// budgetErr: an error of the message's budget, returned as it is.
func budgetErr(err error) bool {
	var g *format.GrowError
	return errors.Is(err, format.ErrBudget) || errors.As(err, &g)
}

// Close releases the pdfium instances.
func (e *Engine) Close() error {
	if e.pool != nil {
		return e.pool.Close()
	}
	return nil
}

// Sanitize implements format.Sanitizer.
func (f *Flattener) Sanitize(ctx context.Context, p format.Part, in io.Reader, out io.Writer) (v format.Verdict, err error) {
	defer catch(&err)
	data, err := format.ReadAll(in, 64<<20)
	if err != nil {
		return format.Verdict{}, fmt.Errorf("pdf: %w", err)
	}
	quality := orInt(p.Options.Quality, orInt(f.JPEGQuality, 80))
	dpi := orInt(p.Options.DPI, orInt(f.DPI, 150))
	var mu sync.Mutex
	pages := map[int]pageImage{}
	rendered, total, err := f.render(ctx, p.Budget, data, dpi, orInt(p.Options.Pages, orInt(f.MaxPages, 50)), func(i int, img image.Image, pageDPI int) error {
		pi, err := encodePage(ctx, img, quality, f.encoding)
		if err != nil {
			return fmt.Errorf("pdf: page %d: %w", i+1, err)
		}
		// The page keeps its size in points: pixels at the DPI it was
		// rendered at (within 72/dpi of a point), rotation included.
		pi.ptW, pi.ptH = float64(pi.width)*72/float64(pageDPI), float64(pi.height)*72/float64(pageDPI)
		mu.Lock()
		pages[i] = pi
		mu.Unlock()
		return nil
	})
	if err != nil {
		return format.Verdict{}, err
	}
	if err := ctx.Err(); err != nil {
		return format.Verdict{}, err
	}
	ordered := make([]pageImage, rendered)
	for i := range ordered {
		ordered[i] = pages[i]
	}
	pdfOut := bytes.NewBuffer(imagePDF(ordered))
	if err := verify(ctx, pdfOut.Bytes(), false); err != nil {
		return format.Verdict{}, err
	}
	if _, err := out.Write(pdfOut.Bytes()); err != nil {
		return format.Verdict{}, err
	}
	v = format.Verdict{Type: "application/pdf", Notes: []format.Note{{
		JA: fmt.Sprintf("%d ページを %d dpi の画像にしました。", rendered, dpi),
		EN: fmt.Sprintf("%s at %d dpi.", format.Count(rendered, "page was turned into an image", "pages were turned into images"), dpi)}}}
	if rendered < total {
		v.Notes = append(v.Notes, pagesLost("変換しました", "converted", rendered, total))
	}
	return v, nil
}

// render renders up to maxPages pages and hands each image to fn (which
// must not keep it). Pages are rendered in parallel, in as many pool
// instances as are free (each opens the document itself), so fn is called
// from several goroutines, in no particular page order. It returns how
// many pages were rendered and how many the document has.
//
// Each page's bitmap is taken from budget before it is rendered; a budget
// error stops every page and is returned (wrapped).
func (f *Flattener) render(ctx context.Context, budget *format.Budget, data []byte, dpi, maxPages int, fn func(page int, img image.Image, dpi int) error) (rendered, total int, err error) {
	maxPixels := f.MaxPixels
	if maxPixels <= 0 {
		maxPixels = 25_000_000
	}
	err = f.Engine.document(ctx, data, func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, count int) error {
		total, rendered = count, min(count, maxPages)
		var next atomic.Int64
		pages := func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT) error {
			for {
				i := int(next.Add(1) - 1)
				if i >= rendered {
					return nil
				}
				if err := renderPage(ctx, budget, inst, doc, i, dpi, maxPixels, fn); err != nil {
					next.Store(int64(rendered)) // the others stop too
					return err
				}
			}
		}
		// Helpers take instances that are free now; a busy pool means
		// the cores are busy with other mail, and waiting would not help.
		helpers := min(rendered, f.Engine.size) - 1
		errs := make(chan error, max(helpers, 0))
		for range helpers {
			go func() {
				ok, err := f.Engine.open(ctx, data, time.Millisecond, func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, _ int) error {
					return pages(inst, doc)
				})
				if !ok && ctx.Err() == nil {
					err = nil // no free instance: the others render its share
				}
				errs <- err
			}()
		}
		err := pages(inst, doc)
		for range helpers {
			err = errors.Join(err, <-errs)
		}
		return err
	})
	return rendered, total, err
}

// renderPage renders page i at dpi, or lower when the page is over
// maxPixels, and hands the image to fn. The bitmap is taken from budget
// first.
func renderPage(ctx context.Context, budget *format.Budget, inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, i, dpi int, maxPixels int64, fn func(page int, img image.Image, dpi int) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	size, err := inst.FPDF_GetPageSizeByIndex(&requests.FPDF_GetPageSizeByIndex{Document: doc, Index: i})
	if err != nil {
		return fmt.Errorf("pdfium: page %d: %w", i+1, err)
	}
	pageDPI := dpi
	if px := size.Width / 72 * float64(dpi) * size.Height / 72 * float64(dpi); px > float64(maxPixels) {
		pageDPI = int(float64(dpi) * math.Sqrt(float64(maxPixels)/px))
	}
	if pageDPI < 10 {
		return fmt.Errorf("pdfium: page %d is %.0f×%.0f points: too large to render", i+1, size.Width, size.Height)
	}
	if err := budget.Take(bitmapBytes(size.Width, size.Height, pageDPI)); err != nil {
		return fmt.Errorf("pdf: page %d: %w", i+1, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := inst.RenderPageInDPI(&requests.RenderPageInDPI{
		Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: i}}, DPI: pageDPI,
	})
	if err != nil {
		return fmt.Errorf("pdfium: render page %d: %w", i+1, err)
	}
	err = fn(i, r.Result.Image, pageDPI)
	r.Cleanup()
	return err
}

// bitmapBytes is the size of the BGRA bitmap of a page of w×h points at
// dpi (rounded up, as the renderer may).
func bitmapBytes(w, h float64, dpi int) int64 {
	px := func(pt float64) int64 {
		if pt <= 0 || math.IsNaN(pt) {
			return 1
		}
		return int64(math.Ceil(pt/72*float64(dpi))) + 1
	}
	return px(w) * px(h) * 4
}

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func orU32(v, def uint32) uint32 {
	if v == 0 {
		return def
	}
	return v
}

func orDur(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}
