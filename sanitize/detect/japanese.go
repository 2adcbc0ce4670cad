package detect

import (
	"bytes"
	"strings"
)

// The Japanese document formats (一太郎, 花子, DocuWorks, JW-CAD) are
// recognised by their signatures where they have one, and by name only
// where they have none (DocuWorks binders, .jwc) and the content is
// nothing detection knows (application/octet-stream): a name never
// overrides content that is something else.
//
// Signatures, and what they rest on:
//   - 一太郎 8 and later (.jtd/.jtt): an OLE2 compound file whose root
//     storage has the class {78597001-1D84-11CF-9713-0020AFD806F4};
//     一太郎 7 (.jfw) {78597000-…}, the compressed form (.jtdc/.jttc)
//     {78597002-…}. The first two are in Paper Plane xUI's file-type table
//     (PPx VFS_FCHK.C, "一太郎8/9", "一太郎7"); all three were checked on
//     files saved by 一太郎 2016 (fess-crawler's test files). Files with
//     another class but the streams every 一太郎 8+ file has ("DocumentText"
//     starting "SsmgV.01", and "JSRV_SummaryInformation") are 一太郎 too.
//   - 一太郎 4 to 6 (.jsw/.jaw/.jbw…): "DOC\0" at 0 and "JXW.JEX" at 0x80
//     (PPx; file(1)'s ichitaro456 magic; a 一太郎 4 file checked).
//   - 花子: OLE2 root class {06CE2760-93A4-11D1-9079-00805F1D7456}, and the
//     older "DOC\0" with "HANA.JEX" at 0x80 (PPx only: no file checked).
//   - DocuWorks document (.xdw): 60 0E 82 01 at 0 (PPx; a real .xdw
//     checked). A binder (.xbd) has no documented signature: by name.
//   - JW-CAD (.jww): "JwwData." at 0 (every JWW reader and writer; the
//     format is an MFC CArchive). .jwc (the DOS format): by name.

// OLE2 root storage classes of JustSystems documents, as mscfb spells them.
var jpOLEClass = map[string]string{
	"{78597000-1D84-11CF-9713-0020AFD806F4}": TypeIchitaro, // 一太郎 7
	"{78597001-1D84-11CF-9713-0020AFD806F4}": TypeIchitaro, // 一太郎 8 and later
	"{78597002-1D84-11CF-9713-0020AFD806F4}": TypeIchitaro, // compressed (.jtdc)
	"{06CE2760-93A4-11D1-9079-00805F1D7456}": TypeHanako,
}

// IchitaroClass is the root class of the 一太郎 8+ documents whose text
// is read by sanitize/jpdoc.
const IchitaroClass = "{78597001-1D84-11CF-9713-0020AFD806F4}"

// jpExt maps the extensions of the Japanese formats to their types.
var jpExt = map[string]string{
	// 一太郎: 8+ document and template, compressed forms, 7, 4 to 6.
	"jtd": TypeIchitaro, "jtt": TypeIchitaro, "jtdc": TypeIchitaro, "jttc": TypeIchitaro,
	"jfw": TypeIchitaro, "jvw": TypeIchitaro, "jsw": TypeIchitaro, "jaw": TypeIchitaro,
	"jtw": TypeIchitaro, "jbw": TypeIchitaro, "juw": TypeIchitaro,
	// 花子: document (9 and later) and the older .jbh.
	"jhd": TypeHanako, "jbh": TypeHanako,
	"xdw": TypeDocuWorks, "xbd": TypeDocuWorksBinder,
	"jww": TypeJWCAD, "jwc": TypeJWCAD,
}

// The names' checks (names.go) know these extensions as they know the
// others: a .jtd that is an executable is disguised.
func init() {
	for ext, t := range jpExt {
		typeOfExt[ext] = t
	}
}

// jpMagic recognises the Japanese formats that have a signature outside
// OLE2. "" when none.
func jpMagic(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0x60, 0x0E, 0x82, 0x01}):
		return TypeDocuWorks
	case bytes.HasPrefix(b, []byte("JwwData.")):
		return TypeJWCAD
	case bytes.HasPrefix(b, []byte("DOC\x00")) && len(b) > 0x88:
		app, _, _ := bytes.Cut(b[0x80:min(len(b), 0x90)], []byte{0})
		switch strings.ToUpper(string(app)) {
		case "JXW.JEX":
			return TypeIchitaro
		case "HANA.JEX":
			return TypeHanako
		}
	}
	return ""
}

// nameOnly lists the extensions of the formats without a documented
// signature: for these alone a name gives the type. A .jtd, .jhd, .xdw or
// .jww without its format's signature is not taken as one (it is unknown
// content, and disguised): a name never passes bytes the format's own
// program would not have written.
var nameOnly = map[string]string{"xbd": TypeDocuWorksBinder, "jwc": TypeJWCAD}

// typeByName gives the format the names claim, when every name claims
// the same one of nameOnly; "" otherwise. Only for content detection
// could not place (application/octet-stream).
func typeByName(names []string) string {
	t := ""
	for _, n := range names {
		nt := nameOnly[Ext(n)]
		if nt == "" || t != "" && nt != t {
			return ""
		}
		t = nt
	}
	return t
}

// refineByName tells a DocuWorks binder from a document when the content
// has the DocuWorks signature (whether binders share it is not
// documented) and every name says .xbd.
func refineByName(typ string, names []string) string {
	if typ == TypeDocuWorks && len(names) > 0 && typeByName(names) == TypeDocuWorksBinder {
		return TypeDocuWorksBinder
	}
	return typ
}

// jpFamily names the family of a Japanese format's media type, declared
// spellings included; "" for other types.
func jpFamily(t string) string {
	switch {
	case t == TypeIchitaro || strings.Contains(t, "ichitaro") || strings.Contains(t, "js-taro"):
		return "ichitaro"
	case t == TypeHanako || strings.Contains(t, "hanako"):
		return "hanako"
	case strings.Contains(t, "docuworks") || strings.Contains(t, "xdw"):
		// Document and binder are one family: a binder with the
		// document's signature is not disguised.
		return "docuworks"
	case t == TypeJWCAD || strings.Contains(t, "jwcad") || strings.Contains(t, "jww"):
		return "jwcad"
	}
	return ""
}
