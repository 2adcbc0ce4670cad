package sanitize

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

// parsed is a rebuilt message as an independent parser (the standard
// library's, not the one we rebuild with) reads it.
type parsed struct {
	header mail.Header
	text   string   // the decoded text/plain body
	types  []string // media types of every part, in order
}

// parseOutput parses a rebuilt message strictly enough to catch anything a
// mail client could read differently from what we meant.
func parseOutput(msg []byte) (*parsed, error) {
	if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
		return nil, fmt.Errorf("bare LF in output")
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	p := &parsed{header: m.Header}
	ct := m.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("content-type %q: %w", ct, err)
	}
	if err := p.part(mt, params, m.Header.Get("Content-Transfer-Encoding"), m.Body, true); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *parsed) part(mt string, params map[string]string, cte string, body io.Reader, first bool) error {
	p.types = append(p.types, mt)
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for i := 0; ; i++ {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			cmt, cparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
			if err != nil {
				return err
			}
			if err := p.part(cmt, cparams, part.Header.Get("Content-Transfer-Encoding"), part, i == 0); err != nil {
				return err
			}
		}
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	var data []byte
	switch strings.ToLower(cte) {
	case "base64":
		data, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
	case "7bit", "":
		data = raw
	default:
		return fmt.Errorf("unexpected transfer encoding %q", cte)
	}
	if err != nil {
		return err
	}
	if mt == "text/plain" && first && p.text == "" {
		if !strings.EqualFold(params["charset"], "utf-8") {
			return fmt.Errorf("body charset %q", params["charset"])
		}
		p.text = strings.ReplaceAll(string(data), "\r\n", "\n")
	}
	return nil
}

// mimeDecoder decodes RFC 2047 words with the standard library only.
type mimeDecoder struct{}

func (mimeDecoder) header(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}
