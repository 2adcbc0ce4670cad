package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Run runs the actions in order, in b.Timeout. On an error it saves a
// screenshot and fails the test with the error. Selectors are chromedp's:
// chromedp.CSS("form button") for a CSS selector.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	Get(b, "run", chromedp.Steps(actions...))
}

// Get runs one action that returns a value, as Run does, and returns the
// value; what names the action in the failure message. For example:
//
//	v := browsertest.Get(b, "reason", chromedp.Value(chromedp.CSS("#reason")))
func Get[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// fail saves a screenshot and fails the test with err.
func (b *Browser) fail(what string, err error) {
	b.t.Helper()
	b.failureShot(what)
	b.t.Fatalf("browsertest: %s: %v", what, err)
}

// Navigate loads url, waits for its load event and returns the HTTP
// status of its document (after redirects), as the browser's network
// events reported it: 404 and 403 pages are checked this way.
func (b *Browser) Navigate(url string) int {
	b.t.Helper()
	return int(Get(b, "navigate to "+url, chromedp.NavigateResponse(url)).Status)
}

// Submit clicks the first element matching the CSS selector sel (a form's
// submit button, a link), waits for the document that loads and returns
// its HTTP status (after redirects: a POST answered 303 gives the status of
// the page it leads to). A click that loads nothing fails the test after
// b.Timeout.
func (b *Browser) Submit(sel string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fail("submit "+sel, err)
	}
	return int(resp.Status)
}

// Text returns the visible text (innerText) of the first element matching
// the CSS selector sel, waiting for it to exist within b.Timeout.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return Get(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// Fill types value into the form field matching sel, after clearing it.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	// Emptied through the DOM: chromedp.Clear fails on an empty textarea
	// (it has no text node to remove).
	Eval[bool](b, fmt.Sprintf("(e => { if (!e) return false; e.value = ''; return true })(document.querySelector(%q))", sel))
	Get(b, "fill "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
}

// Has reports whether an element matches sel now (it does not wait).
func (b *Browser) Has(sel string) bool {
	b.t.Helper()
	return Eval[bool](b, fmt.Sprintf("document.querySelector(%q) !== null", sel))
}

// Eval evaluates a JavaScript expression through the DevTools protocol
// (the page's own scripts stay blocked by its CSP) and returns its value.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	return Get(b, "eval "+expr, chromedp.Evaluate[T](expr))
}

// Lines splits visible text into trimmed non-empty lines, for asserting
// what a page says.
func Lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// SetWidth emulates a viewport px wide (and Height high; not a mobile
// device: the page is laid out at exactly px, whatever its meta
// viewport says). 375 is a phone; Width is the start.
func (b *Browser) SetWidth(px int) {
	b.t.Helper()
	Get(b, fmt.Sprintf("width %d", px), chromedp.EmulateViewport(int64(px), Height))
}

// Overflows reports whether the page scrolls horizontally at the current
// width: its content is wider than the viewport.
func (b *Browser) Overflows() bool {
	b.t.Helper()
	return Eval[bool](b, `document.scrollingElement.scrollWidth > document.scrollingElement.clientWidth`)
}

// Fonts returns the families of the fonts chromium rendered the text of
// the first element matching sel with (CSS.getPlatformFontsForNode), e.g.
// "Noto Sans CJK JP" for Japanese: the way to tell glyphs from empty boxes.
func (b *Browser) Fonts(sel string) []string {
	b.t.Helper()
	return Get(b, "fonts of "+sel, chromedp.QueryAfter(chromedp.CSS(sel),
		func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) ([]string, error) {
			if _, err := cdp.Call(ctx, t, css.Enable, cdp.Empty{}); err != nil {
				return nil, err
			}
			res, err := cdp.Call(ctx, t, css.GetPlatformFontsForNode,
				css.GetPlatformFontsForNodeParams{NodeID: nodes[0].NodeID})
			if err != nil {
				return nil, err
			}
			var fams []string
			for _, f := range res.Fonts {
				fams = append(fams, f.FamilyName)
			}
			return fams, nil
		}))
}

// Console returns the console errors, uncaught exceptions and browser log
// errors and warnings (CSP violations among them: "Refused to …", a 404
// of a page's resource) seen so far, in order, each as "source: text". A
// page working as meant has none.
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// listen runs in the tab's event loop for every event, in the order
// chromium sent them (so that a message sent before a navigation's reply
// is recorded when the navigation returns). It must return fast.
func (b *Browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			args = append(args, remoteText(a))
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError && ev.Entry.Level != log.EntryLevelWarning {
			return
		}
		msg = string(ev.Entry.Source) + ": " + ev.Entry.Text
	default:
		return
	}
	b.mu.Lock()
	b.console = append(b.console, msg)
	b.mu.Unlock()
}

// remoteText is a console argument as text: a string as it is, another
// value as JSON or as chromium describes it.
func remoteText(o *runtime.RemoteObject) string {
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
		return string(o.Value)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// Screenshot saves a full-page PNG of the current page and returns its
// path; the path is logged. It goes to $MUGAI_SCREENSHOTS (created) when
// set, else to the test's temp dir, named <test>-<NN>-<name>.png (NN
// counts the test's screenshots, so a flow's pages sort in order).
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	path, err := b.screenshot(name, b.Timeout)
	if err != nil {
		b.t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	b.t.Logf("browsertest: screenshot %s", path)
	return path
}

// screenshot saves a full-page PNG; a failure's screenshot taken without
// MUGAI_SCREENSHOTS goes to a kept temp folder (the test's own is
// removed when it ends).
func (b *Browser) screenshot(name string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	dir := os.Getenv("MUGAI_SCREENSHOTS")
	switch {
	case dir != "":
		err = os.MkdirAll(dir, 0o755)
	case b.failureSaved:
		dir, err = os.MkdirTemp("", "mugai-screenshots-")
	default:
		dir = b.t.TempDir()
	}
	if err != nil {
		return "", err
	}
	b.shots++
	path := filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", fileName(b.t.Name()), b.shots, fileName(name)))
	return path, os.WriteFile(path, png, 0o644)
}

// fileName makes s safe as a file name: letters, digits, '-', '_' and '.'
// stay, anything else becomes '_'; at most 80 bytes.
func fileName(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
