package sanitize

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"

	"mugai/policy"
)

// readBase64Leaf is readLeaf for base64. When the walker holds the part
// (known), the encoded bytes are read in place (readRaw checks them against
// the stream) and decoded into one buffer of their decoded size; otherwise
// it decodes as it reads, so that the encoded bytes, the larger form, are
// never held whole.
func (w *walker) readBase64Leaf(n *node, src *errReader, known []byte, rawLimit int64) {
	d := newB64Stream(w.bounds, w.lim.MaxPartBytes)
	d.batch = w.b64batch[:0] // one batch buffer for the walk's base64 leaves
	defer func() { w.b64batch = d.batch[:0] }()
	if known != nil && !w.copyAll {
		raw := w.readRaw(src, known, rawLimit)
		d.reserve(len(raw))
		for len(raw) > 0 { // in pieces: the batch of whole lines stays small
			k := min(len(raw), b64Piece)
			d.write(raw[:k])
			raw = raw[k:]
		}
	} else {
		w.streamBase64(d, io.LimitReader(src, rawLimit+1))
	}
	derr := d.close()
	if src.err != nil {
		// The stream ended inside this part: every enclosing multipart is
		// cut short too, so the walk ends here.
		w.stopped = true
		n.body, n.size = d.data, d.raw
		if n.problem == "" {
			n.problem, n.detail = policy.ReasonMalformedMIME, "part ends before its boundary"
		}
		return
	}
	if d.hit {
		boundaryLike(n)
	}
	if d.raw > rawLimit {
		_ = drain(src)
		n.problem, n.detail, n.size = policy.ReasonSizeLimit, fmt.Sprintf("part larger than %d bytes", w.lim.MaxPartBytes), d.raw
		return
	}
	n.body, n.size = d.data, d.decoded
	w.leafDone(n, derr, "base64")
}

// b64Piece is how much encoded text b64Stream.write takes at a time.
const b64Piece = 32 << 10

// streamBase64 feeds r to d through the walker's read buffer.
func (w *walker) streamBase64(d *b64Stream, r io.Reader) {
	buf := w.readBuf()
	for {
		k, err := r.Read(buf)
		d.write(buf[:k])
		if err != nil {
			return
		}
	}
}

// b64Stream decodes base64 fed in pieces, with the leniency of mail
// clients: line breaks and white space are skipped and padding is
// optional; any other character, or data after padding, makes the part bad
// (what came before is kept). Well-formed lines go straight through the
// standard decoder; anything else through a byte-wise path with the same
// result. It keeps at most max+1 decoded bytes and counts them all, counts
// the encoded bytes, and watches each line for the start of an enclosing
// boundary.
type b64Stream struct {
	data    []byte   // decoded (after close: all of it, at most max+1 bytes)
	chunks  [][]byte // filled chunks before data
	kept    int64
	max     int64
	decoded int64
	raw     int64
	bad     bool
	padded  bool
	hit     bool
	pend    []byte // alphabet not yet decoded (fewer than 4 after each step)
	batch   []byte // whole lines gathered for one call of the standard decoder

	bounds  [][]byte // "--" + each enclosing boundary
	long    int      // the longest of them
	head    []byte   // the current line's first bytes, up to long
	midLine bool     // the last piece ended inside a line
	scratch []byte
}

func newB64Stream(bounds []string, max int64) *b64Stream {
	d := &b64Stream{max: max}
	for _, b := range bounds {
		d.bounds = append(d.bounds, []byte("--"+b))
		d.long = max2(d.long, len(b)+2)
	}
	return d
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// reserve sizes the decoded buffer for n encoded bytes (at most max+1
// decoded), so the decoding needs neither growth nor a final join.
func (d *b64Stream) reserve(n int) {
	if len(d.data) == 0 && len(d.chunks) == 0 {
		d.data = make([]byte, 0, min(int64(n/4*3+3), d.max+1))
	}
}

// write takes the next piece of the encoded part; the piece is not
// modified nor kept.
func (d *b64Stream) write(p []byte) {
	d.raw += int64(len(p))
	if cap(d.batch) < len(p) {
		// The batch never holds more than one piece: sized once, not
		// grown line by line.
		d.batch = make([]byte, 0, len(p))
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		line, complete := p, false
		if i >= 0 {
			line, p, complete = p[:i], p[i+1:], true
		} else {
			p = nil
		}
		d.watch(line, complete)
		fresh := !d.midLine
		d.midLine = !complete
		if l := bytes.TrimSuffix(line, []byte("\r")); complete && fresh && len(d.pend) == 0 && !d.padded && len(l)%4 == 0 {
			// A whole line that may be well-formed: gathered with its
			// neighbours, decoded in one call.
			d.batch = append(d.batch, l...)
			if len(l) > 0 && l[len(l)-1] == '=' {
				d.fast() // padding ends the data: nothing may join it
			}
			continue
		}
		d.fast()
		d.slow(line)
	}
	d.fast()
}

// watch tracks the start of each line for delimiter-like prefixes.
func (d *b64Stream) watch(line []byte, complete bool) {
	if d.long == 0 {
		return
	}
	if !d.midLine {
		d.head = d.head[:0]
	}
	if room := d.long - len(d.head); room > 0 && (len(d.head) > 0 || !d.midLine) {
		d.head = append(d.head, line[:min(room, len(line))]...)
		if len(d.head) == d.long || complete {
			d.checkHead()
		}
	}
}

func (d *b64Stream) checkHead() {
	for _, b := range d.bounds {
		if bytes.HasPrefix(d.head, b) {
			d.hit = true
		}
	}
}

// fast decodes the gathered lines in one call of the standard decoder;
// when they are not all well-formed they go through slow instead, in
// order, which gives what line-by-line decoding would have.
func (d *b64Stream) fast() {
	if len(d.batch) == 0 {
		return
	}
	need := base64.StdEncoding.DecodedLen(len(d.batch))
	if free := d.data[len(d.data):cap(d.data)]; len(d.chunks) == 0 && len(free) >= need && d.kept+int64(need) <= d.max+1 {
		// Straight into the decoded buffer (what emit would append);
		// on error nothing of it counts, and slow goes over the batch.
		if m, err := base64.StdEncoding.Decode(free[:need], d.batch); err == nil {
			d.data = d.data[:len(d.data)+m]
			d.decoded += int64(m)
			d.kept += int64(m)
			d.padded = d.batch[len(d.batch)-1] == '='
			d.batch = d.batch[:0]
			return
		}
	}
	if cap(d.scratch) < need {
		d.scratch = make([]byte, need)
	}
	if m, err := base64.StdEncoding.Decode(d.scratch[:need], d.batch); err == nil {
		d.emit(d.scratch[:m])
		d.padded = d.batch[len(d.batch)-1] == '='
	} else {
		d.slow(d.batch)
	}
	d.batch = d.batch[:0]
}

// slow classifies every byte, then decodes the whole quanta gathered.
func (d *b64Stream) slow(p []byte) {
	for _, c := range p {
		switch b64class[c] {
		case 2:
			if c == '=' {
				d.padded = true
			} else if d.padded {
				d.bad = true
			} else {
				d.pend = append(d.pend, c)
			}
		case 0:
			d.bad = true
		}
	}
	d.flush(len(d.pend) / 4 * 4)
}

// flush decodes the first k pending characters (k a multiple of 4, or all
// of them at the end).
func (d *b64Stream) flush(k int) error {
	if k == 0 {
		return nil
	}
	need := base64.RawStdEncoding.DecodedLen(k)
	if cap(d.scratch) < need {
		d.scratch = make([]byte, need)
	}
	m, err := base64.RawStdEncoding.Decode(d.scratch[:need], d.pend[:k])
	d.emit(d.scratch[:m])
	d.pend = append(d.pend[:0], d.pend[k:]...)
	return err
}

func (d *b64Stream) emit(b []byte) {
	d.decoded += int64(len(b))
	room := d.max + 1 - d.kept
	if room <= 0 {
		return
	}
	b = b[:min(int64(len(b)), room)]
	d.kept += int64(len(b))
	for len(b) > 0 {
		if len(d.data) == cap(d.data) {
			// Chunks that double up to 1 MiB, joined once at the end: a
			// large attachment is copied once, not once per growth.
			if len(d.data) > 0 {
				d.chunks = append(d.chunks, d.data)
			}
			d.data = make([]byte, 0, min(max(2*cap(d.data), 4096), 1<<20))
		}
		k := min(len(b), cap(d.data)-len(d.data))
		d.data = append(d.data, b[:k]...)
		b = b[k:]
	}
}

// close decodes what is pending and returns the verdict on the encoding.
func (d *b64Stream) close() error {
	if d.long > 0 && d.midLine && len(d.head) > 0 && len(d.head) < d.long {
		d.checkHead()
	}
	err := d.flush(len(d.pend))
	if err == nil && d.bad {
		err = errBadBase64
	}
	if len(d.chunks) > 0 {
		all := make([]byte, 0, d.kept)
		for _, c := range d.chunks {
			all = append(all, c...)
		}
		d.data, d.chunks = append(all, d.data...), nil
	}
	return err
}
