// Package format is the contract between the MIME walker (package sanitize)
// and the per-format sanitizers (sanitize/image, sanitize/textfile, …).
// Sanitizers never see MIME: they get the decoded bytes of one file and
// what was found out about it, and write a new file.
//
// Call order: the walker identifies a part, the policy chooses an action,
// the Registry gives the Sanitizer registered for that action and the
// detected type, and Sanitize is called once with a context that carries
// the deadline. A Sanitizer checks ctx in its loops and returns when it is
// done: after the deadline nobody waits for its result, and work that goes
// on holds memory the message no longer accounts for. The walker owns in and out; a Sanitizer must not keep them.
// Any error, panic or deadline makes the walker strip the part
// (reason sanitize-failed): a Sanitizer never has to pass anything through.
package format

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"mugai/policy"
)

// Part is what a sanitizer knows about the file it gets.
type Part struct {
	Path         string // MIME part path, for logs
	DeclaredType string // from Content-Type
	SniffedType  string // from the bytes (detect.Detect)
	Filename     string // decoded; may be empty
	Size         int64
	Options      Options // from the rule that chose the action
	// Budget is the message's expansion budget: a sanitizer takes from
	// it what it decodes, decompresses, renders or writes before doing
	// so (nil allows everything). An ErrBudget from it fails the part;
	// any other error from Take must be returned as it is.
	Budget *Budget
}

// Options tune a sanitizer per rule; zero values mean its defaults.
type Options struct {
	DPI     int  // flatten: render resolution
	Quality int  // flatten: JPEG quality
	Pages   int  // flatten: pages rendered at most
	KeepURI bool // disarm (PDF): keep links to web pages
}

// Verdict says what a sanitizer wrote.
type Verdict struct {
	Type     string // media type of the output
	Filename string // name to attach the output under ("" = the original name)
	// Notes say what was done, for the notice (Japanese first, English
	// beside it) and the audit record (English).
	Notes []Note
	// Body is text for the message body beside the file (a calendar
	// event rendered for staff); "" for none. It is body text: links
	// follow the body's link mode.
	Body string
}

// Note is one thing a sanitizer did or left out, in plain words for
// staff: Japanese and English, numbers spelled with correct plurals.
// Nothing from the input is quoted in a note.
type Note struct {
	JA, EN string
	// Loss marks content staff do not get at all (pages not rendered
	// because of the page limit): the notice puts it in a ⚠ line at its
	// top, where it cannot be missed.
	Loss bool
}

// EN is the English of the notes, joined by "; ": the detail of the
// part's audit record.
func (v Verdict) EN() string {
	s := make([]string, len(v.Notes))
	for i, n := range v.Notes {
		s[i] = n.EN
	}
	return strings.Join(s, "; ")
}

// Count is n with the English noun in the singular or the plural:
// "1 cell", "2 cells".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Sanitizer rebuilds one file format.
type Sanitizer interface {
	// Name identifies the sanitizer in decisions ("image", "csv").
	Name() string
	// Sanitize reads the whole input and writes a rebuilt file to out.
	Sanitize(ctx context.Context, p Part, in io.Reader, out io.Writer) (Verdict, error)
}

// Registry maps a policy action and a detected type to a Sanitizer. It is
// built once (in main) and then only read.
type Registry struct {
	entries []entry
}

type entry struct {
	action policy.Action
	types  []string // "image/png", "image/*"
	s      Sanitizer
}

// Register adds s for the action (disarm, extract, flatten) and the
// detected types it handles.
func (r *Registry) Register(action policy.Action, s Sanitizer, types ...string) {
	r.entries = append(r.entries, entry{action: action, types: types, s: s})
}

// Lookup returns the sanitizer for action and detected type, or nil.
func (r *Registry) Lookup(action policy.Action, typ string) Sanitizer {
	if r == nil {
		return nil
	}
	for _, e := range r.entries {
		if e.action != action {
			continue
		}
		for _, t := range e.types {
			if ok, _ := path.Match(t, strings.ToLower(typ)); ok {
				return e.s
			}
		}
	}
	return nil
}

// ReadAll reads a sanitizer's whole input, refusing more than max bytes:
// every sanitizer bounds what it holds in memory.
func ReadAll(in io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(in, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("input larger than %d bytes", max)
	}
	return b, nil
}
