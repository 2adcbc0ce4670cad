package detect

import (
	"path"
	"strings"

	"mugai/policy"
)

// typeOfExt maps extensions to the type family they claim.
var typeOfExt = map[string]string{
	"pdf": TypePDF, "zip": TypeZIP,
	"docx": TypeDOCX, "xlsx": TypeXLSX, "pptx": TypePPTX,
	"docm": TypeDOCM, "xlsm": TypeXLSM, "pptm": TypePPTM, "xlsb": TypeXLSB,
	"doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
	"txt": TypeText, "csv": TypeCSV, "log": TypeText, "rtf": "text/rtf",
	"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
	"bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff", "webp": "image/webp",
	"html": TypeHTML, "htm": TypeHTML, "svg": TypeSVG, "hta": TypeHTA,
	"exe": TypePE, "dll": TypePE, "scr": TypePE, "com": TypePE, "cpl": TypePE, "msi": TypeOLE,
	"js": TypeJS, "jse": TypeJS, "vbs": TypeVBS, "vbe": TypeVBS, "wsf": TypeJS, "ps1": TypePowerShell,
	"bat": TypeBatch, "cmd": TypeBatch, "lnk": TypeLNK, "url": TypeURLShortcut,
	"iso": TypeISO, "img": TypeISO, "vhd": TypeISO, "vhdx": TypeISO,
	"one": TypeOneNote, "chm": TypeCHM, "lzh": TypeLZH,
	"eml": TypeMessage, "mht": TypeMessage, "mhtml": TypeMessage, "msg": TypeOutlookMessage, "slk": TypeSYLK,
	"ics": TypeCalendar, "ical": TypeCalendar, "ifb": TypeCalendar, "vcs": TypeCalendar, "vcf": TypeVCard, "vcard": TypeVCard,
}

// Dangerous extensions: a name ending in one of these is executable or
// active content on Windows, whatever precedes it.
var dangerousExt = map[string]bool{
	"exe": true, "dll": true, "scr": true, "com": true, "pif": true, "cpl": true, "msi": true, "msc": true,
	"js": true, "jse": true, "vbs": true, "vbe": true, "wsf": true, "wsh": true, "ps1": true, "bat": true,
	"cmd": true, "hta": true, "lnk": true, "url": true, "iso": true, "img": true, "vhd": true, "vhdx": true,
	"one": true, "chm": true, "jar": true, "reg": true, "inf": true, "svg": true, "html": true, "htm": true,
}

// Ext returns the lower-case last extension of a name as Windows reads it
// (trailing dots and spaces ignored).
func Ext(name string) string {
	name = strings.TrimRight(name, ". ")
	return strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
}

// checkNames compares every candidate filename and the declared type with
// the content type, and flags the tricks that hide what a file is.
func checkNames(r *Result, declared string, names []string) {
	for _, name := range names {
		switch {
		case strings.ContainsAny(name, "\u202e\u202d\u202a\u202b\u202c\u2066\u2067\u2068\u2069\u200e\u200f"):
			r.flag(policy.FlagDisguised, "filename holds a right-to-left override: "+name)
		case strings.TrimRight(name, ". ") != name:
			r.flag(policy.FlagDisguised, "filename ends in dots or spaces: "+name)
		}
		base := strings.TrimRight(name, ". ")
		ext := Ext(base)
		if inner := Ext(strings.TrimSuffix(base, "."+ext)); inner != "" && dangerousExt[ext] && typeOfExt[inner] != "" && !dangerousExt[inner] {
			r.flag(policy.FlagDisguised, "double extension ."+inner+"."+ext+": "+name)
		}
		if claimed, ok := typeOfExt[ext]; ok && !sameFamily(claimed, r.Type) {
			r.flag(policy.FlagDisguised, "named ."+ext+" but the content is "+r.Type)
		}
		if r.Has(policy.FlagMacro) && (ext == "docx" || ext == "xlsx" || ext == "pptx") {
			r.flag(policy.FlagDisguised, "macro-enabled document named ."+ext)
		}
	}
	if len(names) > 1 {
		exts := map[string]bool{}
		for _, n := range names {
			exts[Ext(n)] = true
		}
		if len(exts) > 1 {
			r.flag(policy.FlagDisguised, "the part gives different names: "+strings.Join(names, " / "))
		}
	}
	if declared != "" && declared != TypeOctet && !sameFamily(declared, r.Type) {
		r.flag(policy.FlagDisguised, "declared "+declared+" but the content is "+r.Type)
	}
}

// sameFamily reports whether a claimed type fits the detected one. Claims
// are loose in real mail (image/jpg, text/comma-separated-values,
// application/x-zip-compressed), so families are compared, not strings.
func sameFamily(claimed, detected string) bool {
	c, d := family(claimed), family(detected)
	return c == d || c == "" && d == ""
}

func family(t string) string {
	t = strings.ToLower(t)
	switch {
	case t == TypePDF || t == "application/x-pdf":
		return "pdf"
	case t == TypeDOCX || t == TypeDOCM || strings.Contains(t, "wordprocessingml") || strings.Contains(t, "ms-word"):
		return "word"
	case t == TypeXLSX || t == TypeXLSM || strings.Contains(t, "spreadsheetml") || strings.Contains(t, "ms-excel"):
		return "excel"
	case t == TypePPTX || t == TypePPTM || strings.Contains(t, "presentationml") || strings.Contains(t, "ms-powerpoint"):
		return "powerpoint"
	case t == "application/msword" || t == TypeWordXML:
		return "word"
	case t == TypeExcelXML:
		return "excel"
	case t == TypePowerPointXML:
		return "powerpoint"
	case t == TypeMessage || t == "message/global":
		return "message"
	case t == TypeSVG:
		return "svg"
	case t == "text/rtf" || t == "application/rtf" || t == "application/x-rtf" || t == "text/richtext":
		return "rtf"
	case strings.HasPrefix(t, "image/"):
		return "image"
	case t == TypeHTML || t == "application/xhtml+xml":
		return "html"
	case t == TypeCSV || t == TypeText || t == "text/comma-separated-values" || t == "text/tab-separated-values" ||
		t == "application/csv" || t == "text/x-csv" || t == "text/x-log":
		return "text"
	case t == TypeZIP || t == "application/x-zip-compressed" || t == "application/x-zip":
		return "zip"
	case t == TypePE || t == "application/x-msdownload" || t == "application/x-dosexec" || t == "application/x-msdos-program":
		return "exe"
	case t == TypeJS || t == "application/javascript" || t == "application/x-javascript":
		return "js"
	case t == TypeOLE || t == "application/x-msi":
		return "ole"
	case t == TypeCalendar || t == "application/ics" || t == "text/x-vcalendar" || t == "application/x-ics" ||
		t == "text/x-calendar" || t == "application/calendar":
		return "calendar"
	case t == TypeVCard || t == "text/x-vcard" || t == "text/directory" || t == "application/vcard" ||
		t == "application/x-vcard":
		return "vcard"
	}
	if f := jpFamily(t); f != "" {
		return f
	}
	return t
}

// DangerousName reports a candidate filename whose extension Windows would
// run or open as active content (whatever the bytes are), and returns it.
func DangerousName(names []string) (string, bool) {
	for _, n := range names {
		if dangerousExt[Ext(n)] {
			return n, true
		}
	}
	return "", false
}
