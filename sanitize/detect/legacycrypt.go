package detect

import (
	"encoding/binary"

	"github.com/richardlehane/mscfb"

	"mugai/policy"
)

// flagLegacyEncrypted flags the file encrypted when the stream e shows a
// password-protected Word or PowerPoint 97-2003 file.
func flagLegacyEncrypted(e *mscfb.File, r *Result) {
	if why := legacyEncrypted(e); why != "" && !r.Has(policy.FlagEncrypted) {
		r.flag(policy.FlagEncrypted, why)
	}
}

// legacyEncrypted tells why a root stream shows a Word or PowerPoint
// 97-2003 file encrypted with a password, or "": the FIB of a
// WordDocument stream with fEncrypted (RC4, or XOR obfuscation) set
// ([MS-DOC] 2.5.2), the CurrentUserAtom of a Current User stream with
// the encrypted document's token ([MS-PPT] 2.3.2), or an
// EncryptedSummary stream. Such a file's text cannot be read.
func legacyEncrypted(e *mscfb.File) string {
	if len(e.Path) != 0 {
		return "" // an embedded object's streams
	}
	var b [16]byte
	switch e.Name {
	case "WordDocument":
		if n, _ := e.ReadAt(b[:12], 0); n == 12 && binary.LittleEndian.Uint16(b[:]) == 0xA5EC && binary.LittleEndian.Uint16(b[10:])&0x0100 != 0 {
			return "encrypted Word 97-2003 document"
		}
	case "Current User":
		if n, _ := e.ReadAt(b[:16], 0); n == 16 && binary.LittleEndian.Uint32(b[12:]) == 0xF3D1C4DF {
			return "encrypted PowerPoint 97-2003 presentation"
		}
	case "EncryptedSummary":
		return "encrypted PowerPoint 97-2003 presentation"
	}
	return ""
}
