package sanitize

// Reading a message once: the walker keeps the bytes it has read and
// hands each part below the outermost multipart a slice of them, so that
// memory does not grow with nesting.

import (
	"bytes"
	"io"
	"os"
)

// sizeHint is the number of bytes left in r when r can tell (a file, a
// bytes or strings reader), else 0.
func sizeHint(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0
		}
		pos, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0
		}
		return fi.Size() - pos
	}
	return 0
}

// readAll is io.ReadAll of at most limit bytes (and one more, to tell an
// overflow). The first multipart of a message whose size is known reads
// into one buffer of the right size instead of growing one.
func (w *walker) readAll(r io.Reader, limit int64) []byte {
	if w.hint <= 0 {
		b, _ := io.ReadAll(io.LimitReader(r, limit+1))
		return b
	}
	b := make([]byte, 0, min(w.hint, limit)+1)
	w.hint = 0 // only the outermost read knows its size
	for {
		if int64(len(b)) > limit {
			return b
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // the hint was short: let append grow it
		}
		n, err := r.Read(b[len(b):min(int64(cap(b)), limit+1)])
		b = b[:len(b)+n]
		if err != nil {
			return b
		}
	}
}

// messageBytes is a message already in memory: parseMessage reads it in
// place, parts as slices of it, instead of copying it.
type messageBytes struct {
	*bytes.Reader
	b []byte
}

func newMessageBytes(b []byte) *messageBytes { return &messageBytes{bytes.NewReader(b), b} }

// source is the body of an entity: a stream, and when the walker holds
// the bytes the stream yields (a part of a multipart it read, a message in
// memory), those bytes, so that reading the stream need not copy them.
type source struct {
	r     io.Reader
	known []byte // nil when not held; checked against r as it is read
}

// partBodyStart returns where the body of the part whose delimiter line
// is the first one at or after from begins in raw: after that line and
// the part's header (up to its blank line). It is where a part read from
// the multipart reader should be found; the reading checks it.
func partBodyStart(raw []byte, from int, boundary string) int {
	dash := []byte("--" + boundary)
	off := from
	for {
		if off >= len(raw) {
			return -1
		}
		line, next := lineAt(raw, off)
		off = next
		if rest, ok := bytes.CutPrefix(line, dash); ok && isLineEnd(bytes.TrimLeft(rest, " \t")) {
			break
		}
	}
	for off < len(raw) {
		line, next := lineAt(raw, off)
		off = next
		if isLineEnd(line) {
			return off
		}
	}
	return len(raw)
}

// lineAt returns the line at off in b, with its line end, and where the
// next one begins.
func lineAt(b []byte, off int) (line []byte, next int) {
	if i := bytes.IndexByte(b[off:], '\n'); i >= 0 {
		return b[off : off+i+1], off + i + 1
	}
	return b[off:], len(b)
}

func isLineEnd(b []byte) bool { return string(b) == "\r\n" || string(b) == "\n" }

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readBuf is the walker's read buffer: reads of raw bodies do not nest
// (each ends before the parts inside it are read), so one serves them all.
func (w *walker) readBuf() []byte {
	if w.scratch == nil {
		w.scratch = make([]byte, 32<<10)
	}
	return w.scratch
}

// readRaw reads at most limit+1 bytes of an entity's body. When the
// walker holds what the stream should yield (known), it returns a slice of
// that instead of a copy, after checking every byte read against it; where
// they differ it falls back to a copy of what was read. Either way the
// result holds exactly the bytes read. Its capacity is its length, so that
// an append never writes into the bytes after it.
func (w *walker) readRaw(src io.Reader, known []byte, limit int64) []byte {
	if known == nil || w.copyAll {
		return w.readAll(src, limit)
	}
	buf := w.readBuf()
	var off int64
	for off <= limit {
		k, err := src.Read(buf[:min(int64(len(buf)), limit+1-off)])
		if k > 0 && (off+int64(k) > int64(len(known)) || !bytes.Equal(buf[:k], known[off:off+int64(k)])) {
			w.copies++
			out := append(append([]byte(nil), known[:off]...), buf[:k]...)
			if err != nil {
				return out
			}
			rest, _ := io.ReadAll(io.LimitReader(src, limit+1-off-int64(k)))
			return append(out, rest...)
		}
		off += int64(k)
		if err != nil {
			break
		}
	}
	return known[:off:off]
}
