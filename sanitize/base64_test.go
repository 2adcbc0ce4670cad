package sanitize

import (
	"bytes"
	"encoding/base64"
	"io"
	"testing"

	"mugai/policy"
)

// decodeBase64Whole is the reference for the streaming decoder of base64
// leaves: the whole encoded part in memory, the alphabet compacted, padding
// trimmed, then decoded at once.
func decodeBase64Whole(raw []byte) ([]byte, error) {
	clean := make([]byte, 0, len(raw))
	var bad bool
	for _, c := range raw {
		switch b64class[c] {
		case 2:
			clean = append(clean, c)
		case 0:
			bad = true
		}
	}
	s := bytes.TrimRight(clean, "=")
	if i := bytes.IndexByte(s, '='); i >= 0 {
		s, bad = s[:i], true
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(s)))
	m, err := base64.RawStdEncoding.Decode(out, s)
	if err == nil && bad {
		err = errBadBase64
	}
	return out[:m], err
}

// The streaming base64 leaf agrees with the whole-part reference on every
// input: the same bytes, the same verdict, the same boundary warning.
func FuzzBase64Leaf(f *testing.F) {
	data := bytes.Repeat([]byte("見積書 quote 0123456789"), 20)
	enc := base64.StdEncoding.EncodeToString(data)
	var lines bytes.Buffer
	for i := 0; i < len(enc); i += 76 {
		lines.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	for _, seed := range []string{lines.String(), enc, "QQ==", "QQ", "QQ==\r\nQQ==", "QQ = =", "Q Q==\r\n", "QQ===", "QR==", "Q", "",
		"\r\n", "QUJD\nREVG\r\n", "QUJD\x00REVG", "QUJD-REVG", "QUJD\r\n--outer\r\nREVG", "--outer-x\r\nQUJD", "QUJD\r\n--oute", "QUJD\n--in"} {
		f.Add([]byte(seed), uint8(15))
		f.Add([]byte(seed), uint8(0))
		f.Add([]byte(seed), uint8(4))
	}
	f.Fuzz(func(t *testing.T, in []byte, piece uint8) {
		w := &walker{lim: Limits{}.withDefaults(), bounds: []string{"outer", "in"}}
		n := &node{}
		// The part arrives in pieces of any size: lines split anywhere.
		w.readLeaf(n, source{r: &pieceReader{b: bytes.Clone(in), size: int(piece%16) + 1}}, "base64")
		want, werr := decodeBase64Whole(in)
		hit := false
		for _, b := range w.bounds {
			hit = hit || bytes.HasPrefix(in, []byte("--"+b)) || bytes.Contains(in, []byte("\n--"+b))
		}
		gotHit := n.detail == "a line starts like the boundary of an enclosing part"
		if !bytes.Equal(n.body, want) || int(n.size) != len(want) || gotHit != hit {
			t.Fatalf("%q: streamed %q (size %d, %s); whole %q, boundary-like %v", in, n.body, n.size, n.detail, want, hit)
		}
		if bad := n.problem == policy.ReasonEncodingError; !hit && bad != (werr != nil) {
			t.Fatalf("%q: problem %q %q; whole-part error %v", in, n.problem, n.detail, werr)
		}
		// Held by the walker (read in place, decoded into one buffer): the
		// same node as streamed.
		wk := &walker{lim: Limits{}.withDefaults(), bounds: w.bounds}
		nk := &node{}
		wk.readLeaf(nk, source{r: &pieceReader{b: bytes.Clone(in), size: int(piece%16) + 1}, known: bytes.Clone(in)}, "base64")
		if !bytes.Equal(nk.body, n.body) || nk.size != n.size || nk.problem != n.problem || nk.detail != n.detail || wk.copies != 0 {
			t.Fatalf("%q: in place %q (size %d, %s %s, %d copies); streamed %q (size %d, %s %s)",
				in, nk.body, nk.size, nk.problem, nk.detail, wk.copies, n.body, n.size, n.problem, n.detail)
		}
	})
}

// pieceReader returns b in pieces of size bytes.
type pieceReader struct {
	b    []byte
	size int
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.size)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// readAll reads the same bytes whatever the size hint says, and stops one
// byte past the limit.
func TestReadAllHint(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	for _, hint := range []int64{0, 1, 5000, 10000, 20000} {
		for _, limit := range []int64{100, 9999, 10000, 50000} {
			w := &walker{hint: hint}
			got := w.readAll(&pieceReader{b: data, size: 777}, limit)
			want := data[:min(int64(len(data)), limit+1)]
			if !bytes.Equal(got, want) {
				t.Errorf("hint %d limit %d: read %d bytes, want %d", hint, limit, len(got), len(want))
			}
			if w.hint != 0 {
				t.Errorf("hint %d kept after the first read", hint)
			}
		}
	}
	if h := sizeHint(bytes.NewReader(data)); h != int64(len(data)) {
		t.Errorf("sizeHint(bytes.Reader) = %d", h)
	}
	if h := sizeHint(&pieceReader{b: data}); h != 0 {
		t.Errorf("sizeHint(unknown reader) = %d", h)
	}
}
