package policy

// Reasons are stable kebab-case constants recorded in every decision. They
// say what the gateway found about a part; the rule says what the policy
// does about it. Scripts and reports key on these strings: never rename one.
// All of them live in this file.
const (
	// ReasonBodyText: a text/plain part was used as the body.
	ReasonBodyText = "body-text"
	// ReasonHTMLConverted: a text/html part was rendered to text as the body.
	ReasonHTMLConverted = "html-converted"
	// ReasonAlternativeUnused: another representation of the body (usually
	// the HTML alternative of a text/plain body) was not used.
	ReasonAlternativeUnused = "alternative-unused"
	// ReasonBodyLimit: the body hit a rendering limit: its text was cut at
	// the size limit, or its HTML was nested too deeply to lay out and its
	// text was read without the layout. The detail says which (and any
	// charset finding).
	ReasonBodyLimit = "body-limit"
	// ReasonTNEFBody: the only body was inside a TNEF winmail.dat; its text
	// was used and everything else in it removed.
	ReasonTNEFBody = "tnef-body"
	// ReasonAttachment: a file or any other part that is not body text.
	ReasonAttachment = "attachment"
	// ReasonTypeMismatch: declared type, filename and content disagree (a
	// disguised file: an exe named .pdf, a docm named .docx, RLO tricks).
	ReasonTypeMismatch = "type-mismatch"
	// ReasonPolyglot: the file is valid as two formats at once.
	ReasonPolyglot = "polyglot"
	// ReasonEncryptedArchive: an encrypted ZIP (PPAP); its contents cannot
	// be inspected.
	ReasonEncryptedArchive = "encrypted-archive"
	// ReasonEncrypted: an encrypted PDF or Office document.
	ReasonEncrypted = "encrypted"
	// ReasonDangerousType: executables, scripts, shortcuts, disk images,
	// OneNote, CHM, HTML and SVG attachments, macro-bearing legacy Office
	// files, unknown content: never passed, whatever the policy says.
	ReasonDangerousType = "dangerous-type"
	// ReasonSanitizeFailed: the sanitizer for the part failed, panicked, hit
	// a limit or ran out of time; the part was removed.
	ReasonSanitizeFailed = "sanitize-failed"
	// ReasonNoSanitizer: the rule asked for an action this build cannot
	// carry out on this type; the part was removed.
	ReasonNoSanitizer = "no-sanitizer"
	// ReasonHiddenContent: MIME-like content in a multipart's preamble or
	// epilogue, where no client should show it; recorded, never passed.
	ReasonHiddenContent = "hidden-content"
	// ReasonEmbeddedFile: a file encoded as text inside the body (uuencode,
	// yEnc, BinHex); the block was removed from the text.
	ReasonEmbeddedFile = "embedded-file"
	// ReasonNothingLeft: an archive whose members were all removed.
	ReasonNothingLeft = "nothing-left"
	// ReasonFlattened: the document was rendered to page images and rebuilt
	// from them.
	ReasonFlattened = "flattened"
	// ReasonExtracted: the document's text was taken out; the document
	// itself was not passed.
	ReasonExtracted = "extracted"
	// ReasonDisarmed: the part was rebuilt without its active content.
	ReasonDisarmed = "disarmed"
	// ReasonNotKeepable: a rule said keep, but the part is a container
	// (a message or multipart) that cannot be passed without sanitizing it.
	ReasonNotKeepable = "not-keepable"

	// ReasonCharsetMislabelled: the declared charset did not fit the bytes;
	// another one (named in the detail) decoded them cleanly.
	ReasonCharsetMislabelled = "charset-mislabelled"
	// ReasonCharsetGuessed: no (known) charset was declared; the one named
	// in the detail decoded the bytes cleanly.
	ReasonCharsetGuessed = "charset-guessed"
	// ReasonHiddenText: the HTML held text a mail client would not show
	// (display:none, zero-size fonts, zero-width characters); it was left
	// out. A phishing signal.
	ReasonHiddenText = "hidden-text"
	// ReasonLinkMismatch: a link's visible text names another host than the
	// one it leads to. A phishing signal; the notice warns.
	ReasonLinkMismatch = "link-mismatch"
	// ReasonUnknownCharset: the declared charset is unknown; the text was
	// read as UTF-8 where valid and undecodable bytes were dropped.
	ReasonUnknownCharset = "unknown-charset"
	// ReasonUndecodableText: some bytes did not decode in the declared
	// charset and were dropped.
	ReasonUndecodableText = "undecodable-text"
	// ReasonUnknownEncoding: the Content-Transfer-Encoding is not one we
	// decode; the part cannot be understood and is removed.
	ReasonUnknownEncoding = "unknown-transfer-encoding"
	// ReasonEncodingError: the transfer encoding was corrupt (bad base64).
	ReasonEncodingError = "encoding-error"
	// ReasonMalformedMIME: the part's MIME structure could not be parsed.
	ReasonMalformedMIME = "malformed-mime"
	// ReasonDepthLimit: nesting beyond the depth limit.
	ReasonDepthLimit = "depth-limit"
	// ReasonPartLimit: parts beyond the part-count limit.
	ReasonPartLimit = "part-limit"
	// ReasonHeaderLimit: a header larger than the header limit.
	ReasonHeaderLimit = "header-limit"
	// ReasonSizeLimit: a part larger than the decoded-size limit.
	ReasonSizeLimit = "size-limit"
	// ReasonUnparseable: the message itself could not be parsed; only a
	// notice is delivered.
	ReasonUnparseable = "unparseable-message"
)
