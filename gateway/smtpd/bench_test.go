package smtpd

import (
	"bytes"

	"mugai/gateway/load"
)

// referenceWire is load.Realistic() as DATA carries it: dot-stuffed and
// ended by CRLF.CRLF.
func referenceWire() []byte {
	msg := load.Realistic()
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(msg, []byte("\r\n")) {
		if len(line) > 0 && line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}
