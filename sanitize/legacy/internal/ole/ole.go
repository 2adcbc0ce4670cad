// Package ole reads the streams of a compound file (OLE2, [MS-CFB]) that
// the legacy Office readers need: only streams directly under the root,
// so the storages of embedded objects (ObjectPool, an embedded workbook)
// and of macros are never opened.
package ole

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/richardlehane/mscfb"

	"mugai/sanitize/format"
)

// ErrMalformed is a compound file that cannot be read.
var ErrMalformed = errors.New("malformed compound file")

// maxEntries bounds the directory entries looked at.
const maxEntries = 100000

// Streams reads the root streams named, matched case-insensitively, and
// returns them under the names asked for. Each is at most the input's size
// (a longer one is an error) and is taken from budget before it is read.
// A name that is not there is absent from the map. A malformed compound
// file is an error wrapping ErrMalformed, also where the reader would panic.
func Streams(data []byte, budget *format.Budget, names ...string) (got map[string][]byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			got, err = nil, ErrMalformed
		}
	}()
	r, err := mscfb.New(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	got = map[string][]byte{}
	for i := 0; i < maxEntries; i++ {
		f, err := r.Next()
		if err != nil {
			break
		}
		i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, f.Name) })
		if len(f.Path) != 0 || i < 0 || got[names[i]] != nil {
			continue // names are case-insensitive ([MS-CFB] 2.6.4); the first one counts
		}
		name := names[i]
		if f.Size < 0 || f.Size > int64(len(data)) {
			return nil, fmt.Errorf("%w: stream %s claims %d bytes", ErrMalformed, name, f.Size)
		}
		if err := budget.Take(f.Size); err != nil {
			return nil, err
		}
		b := make([]byte, f.Size)
		if _, err := io.ReadFull(f, b); err != nil {
			return nil, fmt.Errorf("%w: reading %s: %v", ErrMalformed, name, err)
		}
		got[name] = b
	}
	return got, nil
}
