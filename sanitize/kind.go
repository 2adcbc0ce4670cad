package sanitize

import (
	"strings"

	"mugai/sanitize/detect"
)

// kind is the name of a kind of file as the notice gives it to staff: a
// few words they know (Excel ブック, 一太郎文書), never a MIME type; the
// audit record keeps the type.
type kind struct{ ja, en string }

// kinds names every type detect gives, and the everyday ones mimetype
// gives besides.
var kinds = map[string]kind{
	// Documents.
	detect.TypePDF:             {"PDF", "PDF"},
	detect.TypeDOCX:            {"Word 文書", "Word document"},
	detect.TypeDOCM:            {"Word 文書 (マクロ付き)", "Word document with macros"},
	detect.TypeDOC:             {"Word 文書 (97-2003 形式)", "Word 97-2003 document"},
	detect.TypeWordXML:         {"Word 文書 (XML 形式)", "Word XML document"},
	detect.TypeXLSX:            {"Excel ブック", "Excel workbook"},
	detect.TypeXLSM:            {"Excel ブック (マクロ付き)", "Excel workbook with macros"},
	detect.TypeXLSB:            {"Excel ブック (バイナリ形式)", "Excel binary workbook"},
	detect.TypeXLS:             {"Excel ブック (97-2003 形式)", "Excel 97-2003 workbook"},
	detect.TypeExcelXML:        {"Excel ブック (XML 形式)", "Excel XML workbook"},
	detect.TypeSYLK:            {"表計算ファイル (SYLK 形式)", "SYLK spreadsheet"},
	detect.TypePPTX:            {"PowerPoint プレゼンテーション", "PowerPoint presentation"},
	detect.TypePPTM:            {"PowerPoint プレゼンテーション (マクロ付き)", "PowerPoint presentation with macros"},
	detect.TypePPT:             {"PowerPoint プレゼンテーション (97-2003 形式)", "PowerPoint 97-2003 presentation"},
	detect.TypePowerPointXML:   {"PowerPoint プレゼンテーション (XML 形式)", "PowerPoint XML presentation"},
	detect.TypeOfficeXML:       {"Office 文書 (XML 形式)", "Office XML document"},
	detect.TypeOLE:             {"Office 形式のファイル (OLE)", "OLE compound file"},
	detect.TypeOneNote:         {"OneNote ノートブック", "OneNote notebook"},
	detect.TypeRTF:             {"リッチテキスト文書 (RTF)", "rich text document (RTF)"},
	"application/rtf":          {"リッチテキスト文書 (RTF)", "rich text document (RTF)"},
	detect.TypeText:            {"テキスト", "text"},
	detect.TypeCSV:             {"CSV", "CSV"},
	detect.TypeHTML:            {"HTML ファイル", "HTML file"},
	detect.TypeCalendar:        {"予定表 (iCalendar)", "calendar (iCalendar)"},
	"application/ics":          {"予定表 (iCalendar)", "calendar (iCalendar)"},
	detect.TypeVCard:           {"連絡先 (vCard)", "contact card (vCard)"},
	"text/x-vcard":             {"連絡先 (vCard)", "contact card (vCard)"},
	detect.TypeIchitaro:        {"一太郎文書", "Ichitaro document"},
	detect.TypeHanako:          {"花子図形", "Hanako drawing"},
	detect.TypeDocuWorks:       {"DocuWorks 文書", "DocuWorks document"},
	detect.TypeDocuWorksBinder: {"DocuWorks バインダー", "DocuWorks binder"},
	detect.TypeJWCAD:           {"JW-CAD 図面", "JW-CAD drawing"},
	// Mail.
	detect.TypeMessage:        {"メール", "mail message"},
	"message/global":          {"メール", "mail message"},
	detect.TypeOutlookMessage: {"Outlook のメール (.msg)", "Outlook message (.msg)"},
	"application/ms-tnef":     {"Outlook の添付情報 (winmail.dat)", "Outlook winmail.dat"},
	// Images.
	"image/png":       {"画像 (PNG)", "image (PNG)"},
	"image/jpeg":      {"画像 (JPEG)", "image (JPEG)"},
	"image/gif":       {"画像 (GIF)", "image (GIF)"},
	"image/bmp":       {"画像 (BMP)", "image (BMP)"},
	"image/tiff":      {"画像 (TIFF)", "image (TIFF)"},
	"image/webp":      {"画像 (WebP)", "image (WebP)"},
	"image/heic":      {"画像 (HEIC)", "image (HEIC)"},
	"image/heif":      {"画像 (HEIF)", "image (HEIF)"},
	"image/x-icon":    {"アイコン画像", "icon image"},
	detect.TypeSVG:    {"画像 (SVG)", "image (SVG)"},
	"image/vnd.dwg":   {"CAD 図面 (DWG)", "CAD drawing (DWG)"},
	"image/vnd.dxf":   {"CAD 図面 (DXF)", "CAD drawing (DXF)"},
	"application/dxf": {"CAD 図面 (DXF)", "CAD drawing (DXF)"},
	// Archives.
	detect.TypeZIP:                      {"ZIP 圧縮ファイル", "ZIP archive"},
	detect.TypeLZH:                      {"LZH 圧縮ファイル", "LZH archive"},
	"application/x-7z-compressed":       {"7-Zip 圧縮ファイル", "7-Zip archive"},
	"application/x-rar-compressed":      {"RAR 圧縮ファイル", "RAR archive"},
	"application/vnd.rar":               {"RAR 圧縮ファイル", "RAR archive"},
	"application/vnd.ms-cab-compressed": {"CAB 圧縮ファイル", "CAB archive"},
	"application/x-tar":                 {"tar アーカイブ", "tar archive"},
	"application/gzip":                  {"gzip 圧縮ファイル", "gzip file"},
	"application/x-bzip2":               {"bzip2 圧縮ファイル", "bzip2 file"},
	"application/x-xz":                  {"xz 圧縮ファイル", "xz file"},
	"application/zstd":                  {"zstd 圧縮ファイル", "zstd file"},
	detect.TypeISO:                      {"ディスクイメージ", "disk image"},
	// Programs.
	detect.TypePE:                   {"実行ファイル", "executable program"},
	"application/x-msdownload":      {"実行ファイル", "executable program"},
	detect.TypeELF:                  {"実行ファイル", "executable program"},
	detect.TypeMachO:                {"実行ファイル", "executable program"},
	"application/x-msi":             {"インストーラ (MSI)", "installer (MSI)"},
	"application/java-archive":      {"Java プログラム", "Java program"},
	"application/x-java-applet":     {"Java プログラム", "Java program"},
	"application/x-shockwave-flash": {"Flash ファイル", "Flash file"},
	detect.TypeJS:                   {"スクリプト (JavaScript)", "script (JavaScript)"},
	detect.TypeVBS:                  {"スクリプト (VBScript)", "script (VBScript)"},
	detect.TypePowerShell:           {"スクリプト (PowerShell)", "script (PowerShell)"},
	detect.TypeBatch:                {"スクリプト (バッチファイル)", "script (batch file)"},
	detect.TypeHTA:                  {"スクリプト (HTML アプリケーション)", "script (HTML application)"},
	detect.TypeLNK:                  {"ショートカット", "shortcut"},
	detect.TypeURLShortcut:          {"インターネットショートカット", "Internet shortcut"},
	detect.TypeCHM:                  {"ヘルプファイル (CHM)", "help file (CHM)"},
	// Nothing to say.
	"application/x-empty": {"空のファイル", "empty file"},
	detect.TypeOctet:      {"種類を判別できないファイル", "file of an unknown kind"},
}

// kindOf names a media type for staff: from the table, else by its top
// level (画像, 音声, 動画, テキスト), else a neutral wording.
func kindOf(typ string) kind {
	typ, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(typ)), ";")
	typ = strings.TrimSpace(typ)
	if k, ok := kinds[typ]; ok {
		return k
	}
	top, _, _ := strings.Cut(typ, "/")
	switch top {
	case "image":
		return kind{"画像", "image"}
	case "audio":
		return kind{"音声", "audio"}
	case "video":
		return kind{"動画", "video"}
	case "text":
		return kind{"テキスト", "text"}
	case "font":
		return kind{"フォント", "font"}
	}
	return kind{"その他のファイル", "other file"}
}

// decidedKind is the kind of a decided part: what it was found to be,
// else what it declared.
func decidedKind(detected, declared string) kind {
	if detected != "" {
		return kindOf(detected)
	}
	if declared != "" {
		return kindOf(declared)
	}
	return kindOf(detect.TypeOctet)
}
