package format

import (
	"path"
	"strings"
)

// TextName is the name of the text file an extract sanitizer writes for a
// document named name: its extension replaced by ".txt", or def when the
// document has no name. (The walker still names what it delivers by the
// type it verified.)
func TextName(name, def string) string {
	if name == "" {
		return def
	}
	return strings.TrimSuffix(name, path.Ext(name)) + ".txt"
}
