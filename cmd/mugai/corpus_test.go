//go:build corpus

package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCorpus runs every message below $MUGAI_CORPUS through the sanitize
// command (make corpus) and reports: messages, failures to produce output
// (must be 0), outputs holding U+FFFD, outputs that do not re-parse (must
// be 0).
func TestCorpus(t *testing.T) {
	root := os.Getenv("MUGAI_CORPUS")
	if root == "" {
		t.Fatal("set MUGAI_CORPUS to a folder of messages (make corpus does)")
	}
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	var failed, fffd, unparsable int
	for _, f := range files {
		code, out, stderr := runCLI(t, "sanitize", f)
		if code != 0 || out == "" {
			failed++
			t.Errorf("FAIL %s: exit %d %s", f, code, stderr)
			continue
		}
		text, err := reparse([]byte(out))
		if err != nil {
			unparsable++
			t.Errorf("NOT REPARSED %s: %v", f, err)
			continue
		}
		if strings.ContainsRune(text, utf8.RuneError) {
			fffd++
			t.Logf("U+FFFD %s", f)
		}
	}
	t.Logf("corpus: %d messages, %d failures to produce output, %d outputs with U+FFFD, %d outputs that do not re-parse",
		len(files), failed, fffd, unparsable)
}

// reparse reads a rebuilt message with the standard library only and
// returns its decoded subject and body text.
func reparse(msg []byte) (string, error) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return "", err
	}
	if _, _, err := mime.ParseMediaType(m.Header.Get("Content-Type")); err != nil {
		return "", err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return "", err
	}
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "base64") {
		if body, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body))); err != nil {
			return "", err
		}
	}
	if !utf8.Valid(body) {
		return "", io.ErrUnexpectedEOF
	}
	return subject + "\n" + string(body), nil
}
