// Package browsertest drives a real, headless chromium for end-to-end
// tests of the portal's web pages, through chromedp (the Chrome DevTools
// Protocol over a pipe). Start gives a test its own browser; the methods
// of Browser navigate, act on the page and read it, each with a timeout,
// and fail the test (after saving a screenshot) when something goes wrong.
//
// The browser is Debian's chromium, which .ci/install-browser-tools
// installs with fonts-noto-cjk (so that Japanese renders). Without it the
// browser tests skip with a message saying so, so that `make test` passes
// on a machine without chromium; with MUGAI_BROWSER=required (as `make
// browser` and CI set it) they fail instead. Environment:
//
//	MUGAI_CHROMIUM     the browser to run (a path or a name on PATH);
//	                   default: chromium, then chromium-browser, on PATH
//	MUGAI_BROWSER      "required": a missing browser fails the test
//	MUGAI_SCREENSHOTS  folder for screenshots (created); default: the
//	                   test's temp dir (removed after the test), but a
//	                   failure's go to a kept os.MkdirTemp folder
//
// Name the tests that use it TestBrowser*: that is what `make browser`
// runs (in ./portal/... and ./gateway).
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The viewport at start; SetWidth changes its width.
const (
	Width  = 1280
	Height = 900
)

// Timeout is the default of Browser.Timeout.
const Timeout = 30 * time.Second

const (
	startTimeout = 60 * time.Second // start chromium and open its first tab
	stopTimeout  = 10 * time.Second // then it is killed

	failureShotTimeout = 15 * time.Second // the least a failure's screenshot gets
)

const noChromium = "chromium not installed: run .ci/install-browser-tools; browser tests skipped"

// Browser is one headless chromium with one tab, owned by one test. Its
// methods must be called from the test's goroutine (they call t.Fatal).
type Browser struct {
	// Timeout bounds each method's work in the browser (a Run, a
	// navigation, a query): a hung page or browser fails the test instead
	// of hanging CI. Start sets it to Timeout.
	Timeout time.Duration

	t      testing.TB
	ctx    context.Context // the tab's chromedp context
	dir    string          // chromium's profile and caches: the test's temp dir
	pgid   int             // chromium's process group
	cancel func()          // closes the tab and stops chromium

	mu      sync.Mutex
	console []string // console errors and CSP violations, in order
	notes   tail     // chromium's output and chromedp's errors, shown on failure

	shots        int  // screenshots saved so far (numbers their files)
	failureSaved bool // a failure screenshot was saved already
}

// Start launches a headless chromium for t: its own profile (and crash
// reports, caches) in t.TempDir(), no sandbox (CI runs as root), a
// viewport of Width×Height, no host name but localhost resolving.
// t.Cleanup saves a screenshot when the test failed, then stops chromium
// and kills whatever is left of its process tree. Without chromium, Start
// skips the test (or fails it under MUGAI_BROWSER=required).
func Start(t testing.TB) *Browser {
	t.Helper()
	exe := Executable()
	if exe == "" {
		if os.Getenv("MUGAI_BROWSER") == "required" {
			t.Fatalf("%s (MUGAI_BROWSER=required)", noChromium)
		}
		t.Skip(noChromium)
	}
	b := &Browser{Timeout: Timeout, t: t, dir: t.TempDir()}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), b.options(exe)...)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.listen),
		chromedp.WithErrorf(b.notef),
		chromedp.WithLogf(b.notef))
	b.ctx = ctx
	b.cancel = func() { cancelTab(); cancelAlloc() }
	t.Cleanup(b.close)

	// The first action starts chromium and binds it to ctx, which must
	// not carry a deadline: wait for it here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	var err error
	select {
	case err = <-started:
	case <-time.After(startTimeout):
		err = fmt.Errorf("no tab after %v", startTimeout)
	}
	if err != nil {
		t.Fatalf("browsertest: start %s: %v", exe, err)
	}
	if c := chromedp.FromContext(ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		b.pgid = c.Browser.Process().Pid
	}
	// The window's frame takes some of its height, even headless: the
	// page gets exactly Width×Height.
	b.SetWidth(Width)
	return b
}

// options are chromedp's defaults (headless, no first-run pages, no
// background work) and ours.
func (b *Browser) options(exe string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(filepath.Join(b.dir, "profile")),
		// Its crash reports and caches too: nothing of it outside dir.
		chromedp.Env("XDG_CONFIG_HOME="+filepath.Join(b.dir, "config"), "XDG_CACHE_HOME="+filepath.Join(b.dir, "cache")),
		chromedp.NoSandbox,
		chromedp.WindowSize(Width, Height),
		chromedp.Flag("lang", "ja-JP"), // Accept-Language, as staff's browsers send it
		// Tests reach the loopback only: no other host name resolves, so
		// the browser's own calls home fail at once.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE ::1"),
		chromedp.Flag("disable-component-update", true),
		chromedp.ModifyCmdFunc(ownProcessGroup),
		chromedp.CombinedOutput(&b.notes),
	)
}

// Executable finds chromium: $MUGAI_CHROMIUM (a path or a name on PATH)
// when set, else chromium or chromium-browser on PATH; "" when there is
// none.
func Executable() string {
	names := []string{"chromium", "chromium-browser"}
	if v := os.Getenv("MUGAI_CHROMIUM"); v != "" {
		names = []string{v}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// close runs in t.Cleanup: a screenshot of a failed test's last page,
// then chromium is stopped and its process tree killed.
func (b *Browser) close() {
	if b.t.Failed() {
		if !b.failureSaved {
			b.failureShot("failed")
		}
		if s := b.notes.String(); s != "" {
			b.t.Logf("browsertest: chromium's output and chromedp's errors (of the last %d bytes):\n%s", tailSize, s)
		}
	}
	done := make(chan struct{})
	go func() { b.cancel(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		b.t.Logf("browsertest: chromium did not stop within %v: killing it", stopTimeout)
	}
	killTree(b.pgid, b.dir)
	select {
	case <-done:
	case <-time.After(stopTimeout):
		b.t.Errorf("browsertest: chromium still running %v after it was killed", stopTimeout)
	}
}

// failureShot saves a screenshot for a failure, logging (not failing)
// when that is impossible: the browser may be what failed.
func (b *Browser) failureShot(name string) {
	b.failureSaved = true
	// Its own time: the action that failed may have had a deliberately
	// short b.Timeout, and a loaded machine draws a page slowly.
	path, err := b.screenshot(name, max(b.Timeout, failureShotTimeout))
	if err != nil {
		b.t.Logf("browsertest: no screenshot of the failure: %v", err)
		return
	}
	b.t.Logf("browsertest: screenshot of the failure: %s", path)
}

// notef keeps chromedp's own messages for the failure report instead of
// printing them to the test binary's stderr.
func (b *Browser) notef(format string, args ...any) {
	fmt.Fprintf(&b.notes, format+"\n", args...)
}

// tailSize bounds what tail keeps.
const tailSize = 16 << 10

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > tailSize {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-tailSize:]...)
	}
	return len(p), nil
}

// String returns the lines kept, but chromium's complaints that there is
// no D-Bus (there never is, in CI).
func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for line := range strings.Lines(string(w.buf)) {
		if !strings.Contains(line, ":ERROR:dbus/") {
			b.WriteString(line)
		}
	}
	return b.String()
}
