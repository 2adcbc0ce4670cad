package detect

// Types of the everyday office files of a city hall (issue 15). The
// legacy Office types are what the OLE2 (CFB) check gives.
const (
	TypeDOC = "application/msword"            // Word 97-2003
	TypeXLS = "application/vnd.ms-excel"      // Excel 97-2003 (BIFF8)
	TypePPT = "application/vnd.ms-powerpoint" // PowerPoint 97-2003

	// Calendar invitations and contact cards. application/ics and
	// text/x-vcard are other spellings of the same families.
	TypeCalendar = "text/calendar"
	TypeVCard    = "text/vcard"

	// Japanese document formats: recognised so a policy can name them and
	// the notice can say what they are; mugai cannot rebuild them.
	TypeIchitaro        = "application/x-js-taro"                      // 一太郎 .jtd/.jtt
	TypeHanako          = "application/x-js-hanako"                    // 花子 .jhd
	TypeDocuWorks       = "application/vnd.fujixerox.docuworks"        // DocuWorks .xdw
	TypeDocuWorksBinder = "application/vnd.fujixerox.docuworks.binder" // DocuWorks .xbd
	TypeJWCAD           = "application/x-jwcad"                        // JW-CAD .jww/.jwc
)
