//go:build corpus

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"mugai/policy"
	"mugai/sanitize/archive"
	"mugai/sanitize/detect"
	"mugai/sanitize/pdf"
	"mugai/sanitize/sanitizetest"
)

// TestCorpusFiles runs every file below $MUGAI_CORPUS_FILES/{pdf,archive,office}
// through the sanitize command as an attachment and reports per folder:
// files, outputs produced, parts by reason, sanitizer failures, and any
// attached output that still holds active content by our own re-check
// (must be 0).
func TestCorpusFiles(t *testing.T) {
	root := os.Getenv("MUGAI_CORPUS_FILES")
	if root == "" {
		t.Fatal("set MUGAI_CORPUS_FILES to the corpus folder (make corpus does)")
	}
	for _, folder := range []string{"pdf", "archive", "office"} {
		var files []string
		filepath.WalkDir(filepath.Join(root, folder), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return err
		})
		reasons := map[string]int{}
		produced, failures, active := 0, 0, 0
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msg := asAttachment(filepath.Base(f), data)
			in := filepath.Join(t.TempDir(), "in.eml")
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			os.WriteFile(in, msg, 0o644)
			args := []string{"sanitize", "-audit", audit}
			if pol := os.Getenv("MUGAI_CORPUS_POLICY"); pol != "" {
				args = append(args, "-policy", pol)
			}
			code, out, stderr := runCLI(t, append(args, in)...)
			if code != 0 || out == "" {
				t.Errorf("FAIL %s: %s", f, stderr)
				continue
			}
			produced++
			for _, r := range decisions(t, audit) {
				if r["part"] == "1" {
					continue // the body we wrapped it in
				}
				reasons[r["reason"]]++
				if r["reason"] == "sanitize-failed" {
					failures++
				}
			}
			for name, b := range attached(t, []byte(out)) {
				if why := stillActive(b); why != "" {
					active++
					t.Errorf("ACTIVE %s → %s: %s", f, name, why)
				}
			}
		}
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%d", k, reasons[k]))
		}
		t.Logf("corpus %s: %d files, %d outputs, parts by reason: %s; %d sanitizer failures, %d outputs with active content",
			folder, len(files), produced, strings.Join(parts, " "), failures, active)
	}
}

func asAttachment(name string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: corpus@example.org\r\nSubject: corpus\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=CORPUS\r\n\r\n")
	b.WriteString("--CORPUS\r\nContent-Type: text/plain\r\n\r\nattached\r\n")
	b.WriteString("--CORPUS\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--CORPUS--\r\n")
	return b.Bytes()
}

func decisions(t *testing.T, path string) []map[string]string {
	b, _ := os.ReadFile(path)
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var raw map[string]any
		if json.Unmarshal([]byte(line), &raw) != nil {
			continue
		}
		r := map[string]string{}
		for k, v := range raw {
			r[k] = fmt.Sprint(v)
		}
		out = append(out, r)
	}
	return out
}

func attached(t *testing.T, msg []byte) map[string][]byte {
	t.Helper()
	files, err := sanitizetest.Attachments(msg)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// stillActive re-checks an output with our own detection: no executable or
// script, no macro, no encryption, no polyglot, and the same for every
// member of an archive.
func stillActive(b []byte) string {
	id := detect.Detect(b, "", nil)
	switch {
	case id.Has(policy.FlagMacro), id.Has(policy.FlagEncrypted), id.Has(policy.FlagPolyglot):
		return strings.Join(id.Detail, "; ")
	case id.Type == detect.TypePE || id.Type == detect.TypeELF || id.Type == detect.TypeHTML || id.Type == detect.TypeJS ||
		id.Type == detect.TypeVBS || id.Type == detect.TypeHTA || id.Type == detect.TypeLNK || id.Type == detect.TypeSVG:
		return "content is " + id.Type
	case id.Type == detect.TypePDF:
		if err := pdf.Verify(b, false); err != nil {
			return err.Error()
		}
	case id.Type == detect.TypeZIP:
		ms, err := archive.Read(b, archive.Limits{})
		if err != nil {
			return "rebuilt archive does not read: " + err.Error()
		}
		for _, m := range ms {
			if why := stillActive(m.Data); why != "" {
				return m.Name + ": " + why
			}
		}
	}
	return ""
}
