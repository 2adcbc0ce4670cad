//go:build corpus

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCorpusDifferential compares this tree's sanitize command with an
// earlier build of it ($MUGAI_DIFF_BASE, a mugai binary; make differential
// builds one from a commit) over every message of the shared corpus, every
// file of its pdf, archive and office folders wrapped as an attachment,
// and the messages under sanitize/testdata. The rebuilt message and the
// decision table must be byte-identical once the parts that differ on
// every run are masked: Date, Message-ID and multipart boundaries.
func TestCorpusDifferential(t *testing.T) {
	base := os.Getenv("MUGAI_DIFF_BASE")
	root := os.Getenv("MUGAI_CORPUS_FILES")
	if base == "" || root == "" {
		t.Fatal("set MUGAI_DIFF_BASE to a mugai binary and MUGAI_CORPUS_FILES to the corpus folder (make differential does)")
	}
	inputs := filesUnder(t, filepath.Join(root, "email"))
	for _, f := range filesUnder(t, "../../sanitize/testdata") {
		if strings.HasSuffix(f, ".eml") && !strings.HasSuffix(f, ".want.eml") {
			inputs = append(inputs, f)
		}
	}
	tmp := t.TempDir()
	for _, folder := range []string{"pdf", "archive", "office"} {
		for i, f := range filesUnder(t, filepath.Join(root, folder)) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wrapped := filepath.Join(tmp, fmt.Sprintf("%s-%03d.eml", folder, i))
			if err := os.WriteFile(wrapped, asAttachment(filepath.Base(f), data), 0o644); err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, wrapped)
		}
	}
	differ := 0
	for _, f := range inputs {
		cmd := exec.Command(base, "sanitize", "-explain", f)
		var bout, berr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &bout, &berr
		runErr := cmd.Run()
		code, out, stderr := runCLI(t, "sanitize", "-explain", f)
		if (runErr != nil) != (code != 0) {
			differ++
			t.Errorf("DIFFER %s: exit: base %v, now %d %s", f, runErr, code, stderr)
			continue
		}
		if a, b := masked(bout.String()), masked(out); a != b {
			differ++
			t.Errorf("DIFFER %s: message\n%s", f, firstDifference(a, b))
			continue
		}
		if berr.String() != stderr {
			differ++
			t.Errorf("DIFFER %s: decisions\nbase:\n%s\nnow:\n%s", f, berr.String(), stderr)
		}
	}
	t.Logf("differential: %d inputs, %d differ", len(inputs), differ)
}

func filesUnder(t *testing.T, dir string) []string {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	perRunField = regexp.MustCompile(`(?m)^(Date|Message-ID): .*$`)
	boundaryArg = regexp.MustCompile(`boundary="?([0-9A-Za-z'()+_,./:=?-]+)"?`)
	base64Line  = regexp.MustCompile(`^[A-Za-z0-9+/]+=*\r?$`)
	// A flattened PDF carries the time it was written and an ID made
	// from it.
	pdfTime = regexp.MustCompile(`D:[0-9]{14}[^)]*`)
	pdfID   = regexp.MustCompile(`/ID ?\[ ?<[0-9A-Fa-f]*> ?<[0-9A-Fa-f]*> ?\]`)
)

// masked replaces what differs on every run by placeholders.
func masked(msg string) string {
	msg = perRunField.ReplaceAllString(msg, "$1: (masked)")
	for i, m := range boundaryArg.FindAllStringSubmatch(msg, -1) {
		msg = strings.ReplaceAll(msg, m[1], fmt.Sprintf("BOUNDARY%d", i))
	}
	return maskedBase64(msg)
}

// maskedBase64 replaces each run of base64 lines by a digest of what it
// decodes to, with the time stamps of written PDFs and the per-run
// fields of rebuilt messages inside masked.
func maskedBase64(msg string) string {
	lines := strings.Split(msg, "\n")
	var out []string
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && base64Line.MatchString(lines[j]) {
			j++
		}
		if j-i < 2 {
			out = append(out, lines[i])
			i++
			continue
		}
		data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(strings.Join(lines[i:j], ""), "\r", ""))
		if err != nil {
			out = append(out, lines[i:j]...)
		} else {
			data = pdfID.ReplaceAll(pdfTime.ReplaceAll(data, []byte("D:(masked)")), []byte("/ID[(masked)]"))
			if perRunField.Match(data) { // a rebuilt message inside
				data = []byte(masked(string(data)))
			}
			out = append(out, fmt.Sprintf("(%d base64 lines, sha256 %x)", j-i, sha256.Sum256(data)))
		}
		i = j
	}
	return strings.Join(out, "\n")
}

// firstDifference shows the lines around the first place a and b differ.
func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		if i >= len(al) || i >= len(bl) || al[i] != bl[i] {
			lo, hi := max(0, i-2), i+3
			return fmt.Sprintf("base:\n%s\nnow:\n%s", strings.Join(al[lo:min(hi, len(al))], "\n"), strings.Join(bl[lo:min(hi, len(bl))], "\n"))
		}
	}
	return "(same lines)"
}
