package detect

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"strings"

	"github.com/richardlehane/mscfb"

	"mugai/policy"
)

// TypeXLSB is the Excel binary workbook (.xlsb): an OOXML package whose
// parts are binary records, always macro-capable.
const TypeXLSB = "application/vnd.ms-excel.sheet.binary.macroenabled.12"

// zipType tells OOXML (and its macro-enabled forms) and other ZIP-based
// formats from a plain archive, and flags encryption and VBA projects.
// mimetype calls a docm a docx, an encrypted zip a zip, and a docx whose
// first entry is large a zip.
func zipType(data []byte, r *Result) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return TypeZIP
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[strings.ToLower(f.Name)] = true
		if f.Flags&0x1 != 0 && !r.Has(policy.FlagEncrypted) {
			r.flag(policy.FlagEncrypted, "ZIP member "+f.Name+" is encrypted")
		}
		if strings.HasSuffix(strings.ToLower(f.Name), "vbaproject.bin") && !r.Has(policy.FlagMacro) {
			r.flag(policy.FlagMacro, "holds a VBA project ("+f.Name+")")
		}
	}
	if !names["[content_types].xml"] {
		switch {
		case names["meta-inf/manifest.mf"]:
			return "application/java-archive"
		case names["mimetype"] && names["content.xml"]:
			return "application/vnd.oasis.opendocument"
		}
		return TypeZIP
	}
	ct := readZipFile(zr, "[Content_Types].xml", 1<<20)
	macroCT := bytes.Contains(bytes.ToLower(ct), []byte("macroenabled"))
	if macroCT && !r.Has(policy.FlagMacro) {
		r.flag(policy.FlagMacro, "content types declare a macro-enabled document")
	}
	macro := r.Has(policy.FlagMacro)
	switch {
	case names["xl/workbook.bin"] || bytes.Contains(bytes.ToLower(ct), []byte("sheet.binary.macroenabled")):
		// .xlsb: BIFF12 records in zip parts. Its own type, which no
		// disarmer takes: it is never passed off as an .xlsm.
		return TypeXLSB
	case names["word/document.xml"] || bytes.Contains(ct, []byte("wordprocessingml.document")) || bytes.Contains(ct, []byte("ms-word.document")):
		return pick(macro, TypeDOCM, TypeDOCX)
	case names["xl/workbook.xml"] || bytes.Contains(ct, []byte("spreadsheetml.sheet")) || bytes.Contains(ct, []byte("ms-excel.sheet")):
		return pick(macro, TypeXLSM, TypeXLSX)
	case names["ppt/presentation.xml"] || bytes.Contains(ct, []byte("presentationml.presentation")) || bytes.Contains(ct, []byte("ms-powerpoint.presentation")):
		return pick(macro, TypePPTM, TypePPTX)
	}
	return "application/x-ooxml"
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// readZipFile reads one member (matched case-insensitively), at most max bytes.
func readZipFile(zr *zip.Reader, name string, max int64) []byte {
	for _, f := range zr.File {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil
		}
		defer rc.Close()
		b, _ := io.ReadAll(io.LimitReader(rc, max))
		return b
	}
	return nil
}

// oleType identifies OLE2 compound files: legacy Office documents, the
// container an encrypted OOXML document travels in, and JustSystems
// documents (一太郎, 花子: by their root class, see japanese.go). It flags
// VBA storages, Excel 4 (XLM) macro sheets and 一太郎 macros.
func oleType(data []byte, r *Result) string {
	doc, err := mscfb.New(bytes.NewReader(data))
	if err != nil {
		return TypeOLE
	}
	typ := TypeOLE
	var js jsFacts
	for i := 0; i < 100000; i++ {
		e, err := doc.Next()
		if err != nil {
			break
		}
		js.see(e)
		switch e.Name {
		case "EncryptionInfo", "EncryptedPackage":
			if !r.Has(policy.FlagEncrypted) {
				r.flag(policy.FlagEncrypted, "encrypted Office document")
			}
		case "Macros", "_VBA_PROJECT_CUR", "VBA", "_VBA_PROJECT":
			// 一太郎 keeps its own macros in DocumentMacro/Macros: judged below.
			if !r.Has(policy.FlagMacro) && !underJSMacro(e) {
				r.flag(policy.FlagMacro, "holds a VBA project ("+e.Name+")")
			}
		case "WordDocument":
			typ = "application/msword"
			flagLegacyEncrypted(e, r)
		case "PowerPoint Document":
			typ = "application/vnd.ms-powerpoint"
		case "Current User", "EncryptedSummary":
			flagLegacyEncrypted(e, r)
		case "Workbook", "Book":
			typ = "application/vnd.ms-excel"
			if e.Size > 0 && e.Size < 64<<20 {
				wb := make([]byte, e.Size)
				n, _ := io.ReadFull(e, wb)
				switch {
				case hasFilePass(wb[:n]): // the records after it are ciphertext
					if !r.Has(policy.FlagEncrypted) {
						r.flag(policy.FlagEncrypted, "encrypted Excel workbook (FILEPASS)")
					}
				case hasXLMSheet(wb[:n]) && !r.Has(policy.FlagMacro):
					r.flag(policy.FlagMacro, "holds Excel 4 (XLM) macro sheets")
				}
			}
		}
	}
	jp := jpOLEClass[doc.ID()]
	if jp == "" && typ == TypeOLE && js.text && js.summary {
		jp = TypeIchitaro
	}
	if jp == "" {
		return typ
	}
	if js.macros && !r.Has(policy.FlagMacro) {
		r.flag(policy.FlagMacro, "holds JustSystems macros (DocumentMacro)")
	}
	return jp
}

// jsFacts are what an OLE2 listing tells of a JustSystems document.
type jsFacts struct {
	text    bool // a root "DocumentText" stream starting "SsmgV.01"
	summary bool // a root "JSRV_SummaryInformation" stream
	macros  bool // a macro stream in DocumentMacro longer than an empty one
}

func (js *jsFacts) see(e *mscfb.File) {
	switch {
	case len(e.Path) == 0 && e.Name == "DocumentText":
		head := make([]byte, 8)
		n, _ := io.ReadFull(e, head)
		js.text = string(head[:n]) == "SsmgV.01"
	case len(e.Path) == 0 && e.Name == "JSRV_SummaryInformation":
		js.summary = true
	case underJSMacro(e) && strings.HasPrefix(e.Name, "MacrosStream") && e.Size > 2:
		// Files without macros hold 2-byte MacrosStream* streams (seen
		// in 一太郎 7 and 2016 files); anything longer may be a macro.
		js.macros = true
	}
}

// underJSMacro reports an entry inside 一太郎's macro storage.
func underJSMacro(e *mscfb.File) bool {
	return len(e.Path) > 0 && e.Path[0] == "DocumentMacro"
}

// hasXLMSheet scans BIFF8 records for a BoundSheet8 whose sheet type is a
// macro sheet.
func hasXLMSheet(b []byte) bool {
	for off := 0; off+4 <= len(b); {
		typ := binary.LittleEndian.Uint16(b[off:])
		n := int(binary.LittleEndian.Uint16(b[off+2:]))
		data := b[off+4 : min(len(b), off+4+n)]
		if typ == 0x0085 && len(data) >= 6 && data[5] == 0x01 {
			return true
		}
		off += 4 + n
	}
	return false
}

// hasFilePass reports a FILEPASS record in the workbook globals (the
// records up to the first EOF): the workbook is encrypted.
func hasFilePass(b []byte) bool {
	for off := 0; off+4 <= len(b); off += 4 + int(binary.LittleEndian.Uint16(b[off+2:])) {
		switch binary.LittleEndian.Uint16(b[off:]) {
		case 0x002F:
			return true
		case 0x000A:
			return false
		}
	}
	return false
}
