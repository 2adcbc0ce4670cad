// Package sanitizetest holds helpers for the tests of sanitize and its
// packages: reading what the rebuilder wrote with the standard library's
// parsers (not the one we rebuild with), so a test sees the message as an
// independent client would; finding what a client would still link,
// apart from the link scanner it checks; and writing TNEF streams.
package sanitizetest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
)

// Attachments returns the files attached to a rebuilt message, by
// filename, decoded (the rebuilder writes every attachment in base64 but
// rebuilt messages, message/rfc822 in 7bit). A message that is not multipart/mixed has none. Any part or
// encoding that does not parse is an error.
func Attachments(msg []byte) (map[string][]byte, error) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	mt, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if mt != "multipart/mixed" {
		return files, nil
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if p.FileName() == "" {
			continue
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch cte := strings.ToLower(p.Header.Get("Content-Transfer-Encoding")); {
		case cte == "7bit" && pt == "message/rfc822":
			files[p.FileName()] = raw // a rebuilt message, 7bit as RFC 2046 5.2.1 asks
		case cte == "base64":
			data, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
			if err != nil {
				return nil, fmt.Errorf("attachment %q: %w", p.FileName(), err)
			}
			files[p.FileName()] = data
		default:
			return nil, fmt.Errorf("attachment %q: Content-Transfer-Encoding %q", p.FileName(), cte)
		}
	}
}
