// Package officepdf turns Office documents (Word, Excel, PowerPoint in
// their OOXML, macro-enabled and 97-2003 forms, RTF, OpenDocument) into
// page images: LibreOffice converts the document to PDF inside a sandbox,
// then the PDF flattener renders that PDF to pixels, so that staff get
// the look of the pages and nothing of the document.
//
// LibreOffice is a large program reading hostile input. It runs once per
// document, under bubblewrap (see sandbox), with a fresh profile that
// never runs macros, never updates links and never recalculates formulas
// on load, in its own process group, killed when the conversion ends.
// When LibreOffice or bubblewrap is not installed (or the sandbox cannot
// be set up) the Flattener falls back to the text extractor registered for
// the type and says so in a notice line.
package officepdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

var (
	// ErrUnavailable: LibreOffice, bubblewrap or prlimit is missing, or
	// the sandbox cannot be set up here.
	ErrUnavailable = errors.New("officepdf: LibreOffice in its sandbox is not available")
	errNoPDF       = errors.New("officepdf: LibreOffice wrote no PDF")
)

// Converter converts documents to PDF with LibreOffice in a sandbox. Its
// zero value looks the programs up in PATH and uses the default limits.
// It is safe for concurrent use; at most Parallel conversions run at once.
type Converter struct {
	Soffice  string        // LibreOffice's soffice; default looked up in PATH (must be under /usr, the sandbox's root)
	Bwrap    string        // bubblewrap; default looked up in PATH
	Prlimit  string        // util-linux prlimit; default looked up in PATH
	Timeout  time.Duration // one conversion, waiting for a slot excluded; default 45s (ctx's deadline also holds)
	Parallel int           // conversions at once; default 1 (LibreOffice takes hundreds of MiB and a core)
	Limits   Limits        // per process of the sandbox

	once    sync.Once
	sem     chan struct{}
	box     sandbox
	soffice string
	version string
	err     error
	// unsafeProfile and shareNet (tests only) make the control run that
	// shows the hostile documents are hostile: macros on, links updated,
	// the host's network.
	unsafeProfile bool
	shareNet      bool
}

// Available reports whether conversions can run, and LibreOffice's
// version: the first call runs `soffice --version` in the sandbox (about
// a second), later calls return what it found.
func (c *Converter) Available() (version string, err error) {
	c.once.Do(c.init)
	return c.version, c.err
}

func (c *Converter) init() {
	n := c.Parallel
	if n <= 0 {
		n = 1
	}
	c.sem = make(chan struct{}, n)
	look := func(p, name string) string {
		if p == "" {
			p = name
		}
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
		return ""
	}
	c.soffice = look(c.Soffice, "soffice")
	c.box = sandbox{bwrap: look(c.Bwrap, "bwrap"), prlimit: look(c.Prlimit, "prlimit"), limits: c.Limits, shareNet: c.shareNet}
	var missing []string
	for _, m := range []struct{ path, pkg string }{{c.soffice, "libreoffice-writer-nogui"}, {c.box.bwrap, "bubblewrap"}, {c.box.prlimit, "util-linux"}} {
		if m.path == "" {
			missing = append(missing, m.pkg)
		}
	}
	if len(missing) > 0 {
		c.err = fmt.Errorf("%w: not installed: %s", ErrUnavailable, strings.Join(missing, ", "))
		return
	}
	if real, err := filepath.EvalSymlinks(c.soffice); err != nil || !strings.HasPrefix(real, "/usr/") {
		c.err = fmt.Errorf("%w: %s is not under /usr, which is all the sandbox shows", ErrUnavailable, c.soffice)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.box.run(ctx, nil, []string{c.soffice, "--version"})
	if err != nil {
		c.err = fmt.Errorf("%w: %v", ErrUnavailable, err)
		return
	}
	c.version = lastLine(string(res.stdout))
}

// Convert converts one document to PDF. ext is the extension LibreOffice
// reads the document under ("docx", "xls"…: from the detected type, never
// from the sender's name). The PDF is at most Limits.Output bytes.
func (c *Converter) Convert(ctx context.Context, doc []byte, ext string) ([]byte, error) {
	if _, err := c.Available(); err != nil {
		return nil, err
	}
	if !validExt(ext) {
		return nil, fmt.Errorf("officepdf: bad extension %q", ext)
	}
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return nil, fmt.Errorf("officepdf: waiting for LibreOffice: %w", ctx.Err())
	}
	ctx, cancel := context.WithTimeout(ctx, orDur(c.Timeout, 45*time.Second))
	defer cancel()
	in := "/tmp/in/document." + ext
	files := []inFile{{path: in, data: doc}, {path: "/tmp/profile/user/registrymodifications.xcu", data: profile(c.unsafeProfile)}}
	// soffice's own output goes to stderr; stdout carries only the PDF.
	script := `"$0" "$@" >&2 && exec cat /tmp/out/document.pdf`
	cmd := []string{"/bin/sh", "-c", script, c.soffice,
		"--headless", "--invisible", "--norestore", "--nolockcheck", "--nologo", "--nodefault", "--nofirststartwizard",
		profileArg, "--convert-to", "pdf", "--outdir", "/tmp/out", in}
	res, err := c.box.run(ctx, files, cmd)
	if err != nil {
		return nil, fmt.Errorf("officepdf: %w", err)
	}
	switch {
	case res.overflow:
		return nil, fmt.Errorf("officepdf: the PDF is larger than %d bytes", c.box.limits.withDefaults().Output)
	case !bytes.HasPrefix(res.stdout, []byte("%PDF-")):
		return nil, errNoPDF
	}
	return res.stdout, nil
}

// profileArg points soffice at the fresh profile in the sandbox's /tmp.
const profileArg = "-env:UserInstallation=file:///tmp/profile"

func validExt(ext string) bool {
	if ext == "" || len(ext) > 8 {
		return false
	}
	for _, r := range ext {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func orDur(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}

// profile is the registrymodifications.xcu of the fresh LibreOffice
// profile each conversion starts with: macros never run (security level
// "very high" with no trusted location, and execution disabled outright),
// links are never updated (Writer and Calc), formulas are not
// recalculated on load (WEBSERVICE and friends would fetch), and images
// linked from untrusted documents are blocked. The sandbox has no network
// anyway; these keep LibreOffice from trying.
// The locale is Japanese.
func profile(unsafe bool) []byte {
	// Writer's Update/Link: 0 never, 1 on request, 2 always; Calc's:
	// 0 always, 1 never, 2 on request. RecalcMode: 0 always, 1 never.
	macro, disable, link, calcLink, recalc, block := "3", "true", "0", "1", "1", "true"
	if unsafe {
		macro, disable, link, calcLink, recalc, block = "0", "false", "2", "0", "0", "false"
	}
	items := []struct{ path, prop, typ, val string }{
		{"/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "xs:int", macro},
		{"/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "xs:boolean", disable},
		{"/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "xs:boolean", block},
		{"/org.openoffice.Office.Writer/Content/Update", "Link", "xs:int", link},
		{"/org.openoffice.Office.Calc/Content/Update", "Link", "xs:int", calcLink},
		{"/org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode", "xs:int", recalc},
		{"/org.openoffice.Office.Calc/Formula/Load", "ODFRecalcMode", "xs:int", recalc},
		// Japanese, as on the PCs of a city hall (the sandbox has no
		// system locale).
		{"/org.openoffice.Setup/L10N", "ooSetupSystemLocale", "xs:string", "ja-JP"},
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + "\n")
	for _, it := range items {
		fmt.Fprintf(&b, `<item oor:path="%s"><prop oor:name="%s" oor:op="fuse"><value>%s</value></prop></item>`+"\n", it.path, it.prop, it.val)
	}
	b.WriteString("</oor:items>\n")
	return b.Bytes()
}
