// Package browsertest drives Debian's chromium from tests through chromedp:
// the portal's pages are tested in a real browser, with scripts blocked by
// the pages' own Content-Security-Policy, as staff will see them.
//
// A machine without chromium skips these tests with a message saying how
// to install it (.ci/install-browser-tools), unless MUGAI_BROWSER=required
// (set by make browser and CI), which fails them instead.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Timeout bounds every Run: a hung browser fails the test, never CI.
const Timeout = 30 * time.Second

// Browser is one headless chromium with one tab, for one test.
type Browser struct {
	t   testing.TB
	ctx context.Context
	n   int // screenshots taken

	mu      sync.Mutex
	console []string
}

// Executable finds chromium: $MUGAI_CHROMIUM, else chromium or
// chromium-browser on PATH; "" when there is none.
func Executable() string {
	if p := os.Getenv("MUGAI_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start launches a headless chromium for t with its own profile in
// t.TempDir() and a 1280×900 window; it is stopped, with its process tree,
// when t ends, after a screenshot if t failed.
func Start(t testing.TB) *Browser {
	t.Helper()
	exe := Executable()
	if exe == "" {
		msg := "chromium not installed: run .ci/install-browser-tools; browser tests skipped"
		if os.Getenv("MUGAI_BROWSER") == "required" {
			t.Fatal(msg + " (MUGAI_BROWSER=required)")
		}
		t.Skip(msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("lang", "ja-JP"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &Browser{t: t, ctx: ctx}
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting %s: %v", exe, err)
	}
	chromedp.Listen(ctx, b.record)
	if err := b.do(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
		return chromedp.Void{}, err
	}); err != nil {
		t.Fatalf("log domain: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b.Screenshot("failed")
		}
		cancel()
		cancelAlloc()
	})
	return b
}

// record keeps console errors, uncaught exceptions and log entries of
// level error or warning (CSP violations among them).
func (b *Browser) record(ev any) {
	var line string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			line = "console.error"
		}
	case *runtime.EventExceptionThrown:
		line = "exception: " + e.ExceptionDetails.Text
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
			line = string(e.Entry.Source) + ": " + e.Entry.Text
		}
	}
	if line != "" {
		b.mu.Lock()
		b.console = append(b.console, line)
		b.mu.Unlock()
	}
}

func (b *Browser) do(a chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	_, err := chromedp.Run(ctx, a)
	return err
}

// Run runs actions in order; the first error fails the test after a
// screenshot.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := b.do(chromedp.Steps(actions...)); err != nil {
		b.Screenshot("error")
		b.t.Fatalf("browser: %v", err)
	}
}

// Navigate opens url and waits for it to load; it returns the HTTP status
// of the main document.
func (b *Browser) Navigate(url string) int {
	b.t.Helper()
	return b.response(chromedp.Navigate(url))
}

// Submit clicks the element sel (a submit button) and waits for the page
// the form leads to; it returns that page's HTTP status.
func (b *Browser) Submit(sel string) int {
	b.t.Helper()
	return b.response(chromedp.Click(chromedp.CSS(sel)))
}

func (b *Browser) response(a chromedp.Action[chromedp.Void]) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, a)
	if err != nil {
		b.Screenshot("error")
		b.t.Fatalf("browser: %v", err)
	}
	return int(resp.Status)
}

// Fill types value into the form field sel (after clearing it).
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	b.Run(chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

// Text is the visible text of the first element matching sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.Screenshot("error")
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Eval evaluates a JavaScript expression through the DevTools protocol
// (the page's own scripts stay blocked by its CSP).
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// Has says whether an element matches sel now.
func (b *Browser) Has(sel string) bool {
	b.t.Helper()
	return Eval[bool](b, fmt.Sprintf("document.querySelector(%q) !== null", sel))
}

// SetWidth emulates a viewport of px CSS pixels (375 for a phone).
func (b *Browser) SetWidth(px int) {
	b.t.Helper()
	b.Run(chromedp.EmulateViewport(int64(px), 900))
}

// Overflows says whether the page scrolls sideways at the current width.
func (b *Browser) Overflows() bool {
	b.t.Helper()
	return Eval[bool](b, "document.scrollingElement.scrollWidth > document.scrollingElement.clientWidth")
}

// Console returns the errors and warnings the page caused so far (console
// errors, exceptions, CSP violations).
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves a full-page PNG under $MUGAI_SCREENSHOTS (created when
// missing), else the test's temp dir, logs its path and returns it.
func (b *Browser) Screenshot(name string) string {
	dir := os.Getenv("MUGAI_SCREENSHOTS")
	if dir == "" {
		dir = b.t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("screenshot: %v", err)
		return ""
	}
	b.n++
	file := filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", unsafeName.ReplaceAllString(b.t.Name(), "_"), b.n, unsafeName.ReplaceAllString(name, "_")))
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err == nil {
		err = os.WriteFile(file, png, 0o644)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot: %s", file)
	return file
}

// Lines splits visible text into trimmed non-empty lines, for asserting
// what a page says.
func Lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
