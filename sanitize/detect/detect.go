// Package detect identifies what a file really is, from its bytes first:
// gabriel-vasile/mimetype as a first pass, then our own checks where it is
// blind (OOXML and its macro forms, encrypted ZIP and Office files, OLE2
// macros, ISO 9660, a real PE header, scripts and HTML by content, PDF+ZIP
// polyglots, encrypted PDF, shortcuts, OneNote, CHM, the Japanese document
// formats), and compares the result with the declared type and every
// candidate filename.
//
// Detect only reads: it never writes, executes or renders anything.
package detect

import (
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/gabriel-vasile/mimetype"

	"mugai/policy"
)

// Types we name ourselves (mimetype's names where it has one).
const (
	TypePE          = "application/vnd.microsoft.portable-executable"
	TypeELF         = "application/x-elf"
	TypeMachO       = "application/x-mach-binary"
	TypePDF         = "application/pdf"
	TypeZIP         = "application/zip"
	TypeDOCX        = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeXLSX        = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypePPTX        = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	TypeDOCM        = "application/vnd.ms-word.document.macroenabled.12"
	TypeXLSM        = "application/vnd.ms-excel.sheet.macroenabled.12"
	TypePPTM        = "application/vnd.ms-powerpoint.presentation.macroenabled.12"
	TypeOLE         = "application/x-ole-storage"
	TypeISO         = "application/x-iso9660-image"
	TypeHTML        = "text/html"
	TypeSVG         = "image/svg+xml"
	TypeHTA         = "application/hta"
	TypeJS          = "text/javascript"
	TypeVBS         = "text/vbscript"
	TypePowerShell  = "text/x-powershell"
	TypeBatch       = "text/x-msdos-batch"
	TypeLNK         = "application/x-ms-shortcut"
	TypeURLShortcut = "application/x-url-shortcut"
	TypeOneNote     = "application/onenote"
	TypeCHM         = "application/vnd.ms-htmlhelp"
	TypeLZH         = "application/x-lzh-compressed"
	TypeText        = "text/plain"
	TypeCSV         = "text/csv"
	TypeOctet       = "application/octet-stream"
)

// Result is what Detect found.
type Result struct {
	Type   string        // what the content is
	Flags  []policy.Flag // findings: encrypted, macro, disguised, polyglot
	Detail []string      // human-readable reasons for the flags
}

// Has reports whether a flag is set.
func (r Result) Has(f policy.Flag) bool {
	for _, x := range r.Flags {
		if x == f {
			return true
		}
	}
	return false
}

func (r *Result) flag(f policy.Flag, detail string) {
	if !r.Has(f) {
		r.Flags = append(r.Flags, f)
	}
	r.Detail = append(r.Detail, detail)
}

// Detect identifies data. declared is the Content-Type media type (may be
// empty); names are every candidate filename the part gives.
func Detect(data []byte, declared string, names []string) Result {
	var r Result
	r.Type = contentType(data, &r)
	if r.Type == TypeOctet {
		// Content nothing knows: a Japanese format's extension names it
		// (japanese.go). Content that is anything else keeps its type,
		// and the name's claim is checked against it below.
		if t := typeByName(names); t != "" {
			r.Type = t
		}
	}
	r.Type = refineByName(r.Type, names)
	checkNames(&r, declared, names)
	return r
}

// contentType decides the type from the bytes alone.
func contentType(data []byte, r *Result) string {
	if len(data) == 0 {
		return "application/x-empty"
	}
	switch {
	case bytes.HasPrefix(data, []byte("MZ")) && isPE(data):
		return TypePE
	case bytes.HasPrefix(data, []byte("\x7fELF")):
		return TypeELF
	case bytes.HasPrefix(data, []byte("L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46")):
		return TypeLNK
	case bytes.HasPrefix(data, []byte{0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3}):
		return TypeOneNote
	case bytes.HasPrefix(data, []byte("ITSF")):
		return TypeCHM
	case len(data) > 7 && data[2] == '-' && data[3] == 'l' && (data[4] == 'h' || data[4] == 'z') && data[6] == '-':
		return TypeLZH
	case isISO9660(data):
		return TypeISO
	case wellFormedZip(data):
		// A ZIP from its first byte to its last is a ZIP, even when a
		// stored member puts "%PDF-" in its first KiB (zipfile.go).
		t := zipType(data, r)
		if pdfStart(data) >= 0 {
			r.flag(policy.FlagPolyglot, "a PDF reader would also open this ZIP (%PDF- in its first 1,024 bytes): it may only be rebuilt, never passed as it is")
		}
		return t
	case pdfStart(data) >= 0:
		checkPDF(data, r)
		return TypePDF
	case bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")):
		return zipType(data, r)
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		if t := oleType(data, r); t != TypeOLE || !isOutlookMessage(data) {
			return t
		}
		return TypeOutlookMessage
	}
	if t := jpMagic(data); t != "" {
		return t
	}
	if t := textFormat(data); t != "" {
		return t
	}
	if t := scriptType(data); t != "" {
		return t
	}
	m := mimetype.Detect(data)
	t := strings.SplitN(m.String(), ";", 2)[0]
	if t == TypePE { // "MZ" without a PE header: mimetype's guess, not ours
		return TypeText
	}
	if strings.HasPrefix(t, "text/plain") && looksLikeCSV(data) {
		return TypeCSV
	}
	return t
}

// isPE checks for the PE signature where the DOS header points to it.
func isPE(b []byte) bool {
	if len(b) < 0x40 {
		return false
	}
	off := int(binary.LittleEndian.Uint32(b[0x3C:]))
	return off > 0 && off+4 <= len(b) && bytes.Equal(b[off:off+4], []byte("PE\x00\x00"))
}

func isISO9660(b []byte) bool {
	for _, off := range []int{32769, 34817, 36865} {
		if len(b) >= off+5 {
			switch string(b[off : off+5]) {
			case "CD001", "BEA01", "NSR02", "NSR03":
				return true
			}
		}
	}
	return false
}

// pdfStart finds "%PDF-" in the first KiB (readers accept junk before it).
func pdfStart(b []byte) int {
	return bytes.Index(b[:min(len(b), 1024)], []byte("%PDF-"))
}

// checkPDF flags encryption and a ZIP hidden inside the PDF.
func checkPDF(b []byte, r *Result) {
	if bytes.Contains(b, []byte("/Encrypt")) {
		r.flag(policy.FlagEncrypted, "PDF has an /Encrypt dictionary")
	}
	if bytes.Contains(b, []byte("PK\x05\x06")) && bytes.Contains(b, []byte("PK\x03\x04")) {
		r.flag(policy.FlagPolyglot, "PDF also holds a ZIP archive")
	}
}

// scriptType recognises HTML, HTA, SVG and script languages by content;
// mimetype calls most of them text/plain.
func scriptType(b []byte) string {
	head := asciiLower(b[:min(len(b), 4096)])
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	trim := bytes.TrimSpace(head)
	switch {
	case bytes.Contains(head, []byte("<hta:application")):
		return TypeHTA
	case bytes.Contains(head, []byte("<svg")) && (bytes.HasPrefix(trim, []byte("<svg")) || bytes.HasPrefix(trim, []byte("<?xml"))):
		return TypeSVG
	case bytes.HasPrefix(trim, []byte("<!doctype html")) || bytes.Contains(head, []byte("<html")) ||
		bytes.Contains(head, []byte("<script")) || bytes.Contains(head, []byte("<iframe")) ||
		bytes.HasPrefix(trim, []byte("<head")) || bytes.HasPrefix(trim, []byte("<body")):
		return TypeHTML
	case containsAny(head, "wscript.", "createobject(", "activexobject", "execute(", "executeglobal") && containsAny(head, "dim ", "set ", "sub ", "function "):
		if containsAny(head, "var ", "function(", "new activexobject", "eval(") {
			return TypeJS
		}
		return TypeVBS
	case containsAny(head, "invoke-expression", "iex(", "iex (", "-encodedcommand", "new-object net.webclient", "downloadstring(", "start-process", "[system.convert]::frombase64string"):
		return TypePowerShell
	case containsAny(head, "eval(", "document.write(", "string.fromcharcode(", "new activexobject") && containsAny(head, "var ", "function", "let ", "const "):
		return TypeJS
	case bytes.HasPrefix(trim, []byte("@echo off")) || containsAny(head, "\ncmd /c", "\r\ncmd /c", "powershell -", "powershell.exe"):
		return TypeBatch
	case bytes.HasPrefix(trim, []byte("[internetshortcut]")):
		return TypeURLShortcut
	}
	return ""
}

// asciiLower is a lower-cased copy of b, ASCII letters only: every marker
// we look for is ASCII, and bytes.ToLower spends its time decoding the
// UTF-8 (or Shift_JIS) of Japanese text around them.
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

func containsAny(b []byte, subs ...string) bool {
	for _, s := range subs {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// looksLikeCSV: several lines with the same number (>1) of commas or tabs.
func looksLikeCSV(b []byte) bool {
	lines := bytes.Split(bytes.TrimSpace(b[:min(len(b), 8192)]), []byte("\n"))
	if len(lines) < 2 {
		return false
	}
	for _, sep := range []byte{',', '\t'} {
		n := bytes.Count(lines[0], []byte{sep})
		if n == 0 {
			continue
		}
		same := true
		for _, l := range lines[1:min(len(lines), 10)] {
			if bytes.Count(l, []byte{sep}) != n {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}
