package sanitize

import (
	"mime"
	"slices"
	"strings"

	"mugai/sanitize/detect"
)

// The name and type of every file mugai delivers are its own: the type is
// what a sanitizer wrote (or, for a kept part, what detection verified),
// and the name's extension is one that type allows, so that the
// recipient's mail client, which opens a file by its extension, opens it
// as what mugai made of it. The sender's name is kept only as far as its
// extension agrees; otherwise the type's own extension is appended
// ("report.slk" delivered as text becomes "report.slk.txt").

// deliveredExts lists, per delivered media type, the extensions a
// delivered file of that type may keep; the first is the one given when
// the sender's does not fit. Text keeps only .txt, .csv, .tsv and .log:
// a client may open any other text extension as something active.
var deliveredExts = map[string][]string{
	"text/plain":                    {"txt", "log"},
	"text/csv":                      {"csv", "tsv", "txt"},
	detect.TypeRTF:                  {"rtf"},
	detect.TypeMessage:              {"eml"},
	detect.TypePDF:                  {"pdf"},
	detect.TypeZIP:                  {"zip"},
	detect.TypeDOCX:                 {"docx"},
	detect.TypeXLSX:                 {"xlsx"},
	detect.TypePPTX:                 {"pptx"},
	detect.TypeDOCM:                 {"docm"},
	detect.TypeXLSM:                 {"xlsm"},
	detect.TypePPTM:                 {"pptm"},
	"application/msword":            {"doc"},
	"application/vnd.ms-excel":      {"xls"},
	"application/vnd.ms-powerpoint": {"ppt"},
	"image/jpeg":                    {"jpg", "jpeg"},
	"image/png":                     {"png"},
	"image/gif":                     {"gif"},
	"image/bmp":                     {"bmp"},
	"image/tiff":                    {"tif", "tiff"},
	"image/webp":                    {"webp"},
	detect.TypeCalendar:             {"ics"},
	detect.TypeVCard:                {"vcf"},
}

// unknownExt is given to a delivered file whose type has no entry above
// (a kept part of a type mugai does not know): no client opens it by
// itself.
const unknownExt = "bin"

// deliveredName returns the name a file of type ctype is delivered under,
// from the name proposed (the sender's, or a sanitizer's).
func deliveredName(proposed, ctype string) string {
	name := safeFilename(proposed)
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ctype, ";", 2)[0]))
	}
	exts, ok := deliveredExts[mt]
	if !ok {
		exts = []string{unknownExt}
	}
	base := strings.TrimRight(name, ". ")
	if base == name && slices.Contains(exts, detect.Ext(name)) {
		return name
	}
	return base + "." + exts[0]
}
