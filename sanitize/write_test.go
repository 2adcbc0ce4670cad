package sanitize

import "mugai/sanitize/mailwrite"

// The writer's base64 and encoded words under the names this package's
// tests build messages with.
var (
	wrapBase64 = mailwrite.Base64
	bEncode    = mailwrite.EncodedWords
)
