package sanitize

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// The fast path of decodeBase64 must agree with the lenient path on every
// input: same bytes, same verdict.
func FuzzDecodeBase64(f *testing.F) {
	data := bytes.Repeat([]byte("見積書 quote 0123456789"), 20)
	enc := base64.StdEncoding.EncodeToString(data)
	var lines bytes.Buffer
	for i := 0; i < len(enc); i += 76 {
		lines.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	for _, seed := range []string{lines.String(), enc, "QQ==", "QQ", "QQ==\r\nQQ==", "QQ = =", "Q Q==\r\n", "QQ===", "QR==", "Q", "", "\r\n", "QUJD\nREVG\r\n", "QUJD\x00REVG", "QUJD-REVG"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fast, ferr := decodeBase64(bytes.Clone(in))
		slow, serr := decodeBase64Lenient(bytes.Clone(in), nil)
		if !bytes.Equal(fast, slow) || (ferr == nil) != (serr == nil) {
			t.Fatalf("%q: fast %q, %v; lenient %q, %v", in, fast, ferr, slow, serr)
		}
	})
}
