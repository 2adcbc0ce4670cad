package policy

// Reason says what the gateway found about a part; the rule says what the
// policy does about it. Every decision records one. Reasons are stable
// kebab-case strings: the audit log, the originals index, reports and
// scripts key on them, so never rename one. All of them live in this file,
// with what the notice tells staff about them (Notice).
type Reason string

// The reasons, as written in decisions.
const (
	// ReasonBodyText: a text/plain part was used as the body.
	ReasonBodyText Reason = "body-text"
	// ReasonHTMLConverted: a text/html part was rendered to text as the body.
	ReasonHTMLConverted Reason = "html-converted"
	// ReasonAlternativeUnused: another representation of the body (usually
	// the HTML alternative of a text/plain body) was not used.
	ReasonAlternativeUnused Reason = "alternative-unused"
	// ReasonBodyLimit: the body hit a rendering limit: its text was cut at
	// the size limit, or its HTML was nested too deeply to lay out and its
	// text was read without the layout. The detail says which (and any
	// charset finding).
	ReasonBodyLimit Reason = "body-limit"
	// ReasonTNEFBody: the only body was inside a TNEF winmail.dat; its text
	// was used and everything else in it removed.
	ReasonTNEFBody Reason = "tnef-body"
	// ReasonAttachment: a file or any other part that is not body text.
	ReasonAttachment Reason = "attachment"
	// ReasonTypeMismatch: declared type, filename and content disagree (a
	// disguised file: an exe named .pdf, a docm named .docx, RLO tricks).
	ReasonTypeMismatch Reason = "type-mismatch"
	// ReasonPolyglot: the file is valid as two formats at once.
	ReasonPolyglot Reason = "polyglot"
	// ReasonEncryptedArchive: an encrypted ZIP (PPAP); its contents cannot
	// be inspected.
	ReasonEncryptedArchive Reason = "encrypted-archive"
	// ReasonEncrypted: an encrypted PDF or Office document.
	ReasonEncrypted Reason = "encrypted"
	// ReasonDangerousType: programs: executables, scripts, shortcuts, disk
	// images, installers, OneNote, CHM, macro-bearing legacy Office files,
	// RTF with objects, files named as programs: never passed, whatever
	// the policy says.
	ReasonDangerousType Reason = "dangerous-type"
	// ReasonUnsupportedType: content mugai cannot rebuild and that is not
	// a program: unknown binary content, archives it cannot open, HTML and
	// SVG files, Office XML flat files. Never passed, whatever the policy
	// says; an approver may release the original.
	ReasonUnsupportedType Reason = "unsupported-type"
	// ReasonSanitizeFailed: the sanitizer for the part failed, panicked, hit
	// a limit or ran out of time; the part was removed.
	ReasonSanitizeFailed Reason = "sanitize-failed"
	// ReasonNoSanitizer: the rule asked for an action this build cannot
	// carry out on this type; the part was removed.
	ReasonNoSanitizer Reason = "no-sanitizer"
	// ReasonHiddenContent: MIME-like content in a multipart's preamble or
	// epilogue, where no client should show it; recorded, never passed.
	ReasonHiddenContent Reason = "hidden-content"
	// ReasonEmbeddedFile: a file encoded as text inside the body (uuencode,
	// yEnc, BinHex); the block was removed from the text.
	ReasonEmbeddedFile Reason = "embedded-file"
	// ReasonNothingLeft: an archive whose members were all removed.
	ReasonNothingLeft Reason = "nothing-left"
	// ReasonFlattened: the document was rendered to page images and rebuilt
	// from them.
	ReasonFlattened Reason = "flattened"
	// ReasonExtracted: the document's text was taken out; the document
	// itself was not passed.
	ReasonExtracted Reason = "extracted"
	// ReasonDisarmed: the part was rebuilt without its active content.
	ReasonDisarmed Reason = "disarmed"
	// ReasonNotKeepable: a rule said keep, but the part is a container
	// (a message or multipart) that cannot be passed without sanitizing it.
	ReasonNotKeepable Reason = "not-keepable"

	// ReasonCharsetMislabelled: the declared charset did not fit the bytes;
	// another one (named in the detail) decoded them cleanly.
	ReasonCharsetMislabelled Reason = "charset-mislabelled"
	// ReasonCharsetGuessed: no (known) charset was declared; the one named
	// in the detail decoded the bytes cleanly.
	ReasonCharsetGuessed Reason = "charset-guessed"
	// ReasonHiddenText: the HTML held text a mail client would not show
	// (display:none, zero-size fonts, zero-width characters); it was left
	// out. A phishing signal.
	ReasonHiddenText Reason = "hidden-text"
	// ReasonLinkMismatch: a link's visible text names another host than the
	// one it leads to. A phishing signal; the notice warns.
	ReasonLinkMismatch Reason = "link-mismatch"
	// ReasonUnknownCharset: the declared charset is unknown; the text was
	// read as UTF-8 where valid and undecodable bytes were dropped.
	ReasonUnknownCharset Reason = "unknown-charset"
	// ReasonUndecodableText: some bytes did not decode in the declared
	// charset and were dropped.
	ReasonUndecodableText Reason = "undecodable-text"
	// ReasonUnknownEncoding: the Content-Transfer-Encoding is not one we
	// decode; the part cannot be understood and is removed.
	ReasonUnknownEncoding Reason = "unknown-transfer-encoding"
	// ReasonEncodingError: the transfer encoding was corrupt (bad base64).
	ReasonEncodingError Reason = "encoding-error"
	// ReasonMalformedMIME: the part's MIME structure could not be parsed.
	ReasonMalformedMIME Reason = "malformed-mime"
	// ReasonDepthLimit: nesting beyond the depth limit.
	ReasonDepthLimit Reason = "depth-limit"
	// ReasonPartLimit: parts beyond the part-count limit.
	ReasonPartLimit Reason = "part-limit"
	// ReasonHeaderLimit: a header larger than the header limit.
	ReasonHeaderLimit Reason = "header-limit"
	// ReasonSizeLimit: a part larger than the decoded-size limit.
	ReasonSizeLimit Reason = "size-limit"
	// ReasonUnparseable: the message itself could not be parsed; only a
	// notice is delivered.
	ReasonUnparseable Reason = "unparseable-message"
)

// Notice is what the notice tells staff about a part decided for this
// reason, beyond what the rule says, in Japanese and English. Ordinary
// reasons have none (the zero Text).
func (r Reason) Notice() Text { return reasonNotices[r] }

// reasonNotices are the findings staff should know about.
var reasonNotices = map[Reason]Text{
	ReasonEncryptedArchive: {
		"パスワード付き ZIP（PPAP）は中身を検査できないため届けられません。原本は保管されています。",
		"A password-protected ZIP (PPAP) cannot be inspected, so it cannot be delivered. The original is held."},
	ReasonExtracted: {
		"元の文書は添付していません（原本は保管されています）。",
		"The document itself is not attached (the original is kept)."},
	ReasonNothingLeft: {
		"アーカイブ内のファイルがすべて削除されたため、アーカイブごと削除しました。",
		"Every file in the archive was removed, so the archive was removed."},
	ReasonTNEFBody: {
		"本文は Outlook 形式（winmail.dat）から取り出しました。その他の内容は削除しました。",
		"The body was taken from an Outlook winmail.dat; everything else in it was removed."},
	ReasonCharsetMislabelled: {
		"本文の文字コードの表示が誤っていたため、内容から判定して読みました。",
		"The text's declared character set was wrong; it was read in the one its bytes fit."},
	ReasonCharsetGuessed: {
		"本文の文字コードの表示がなかったため、内容から判定して読みました。",
		"The text did not declare its character set; it was read in the one its bytes fit."},
	ReasonUndecodableText: {
		"本文の一部の文字を解読できず、省きました。",
		"Some characters of the text could not be decoded and were left out."},
	ReasonUnknownCharset: {
		"本文の文字コードが不明なため、読める部分だけを表示しています。",
		"The text's character set is unknown; only the readable part is shown."},
	ReasonNoSanitizer: {
		"この形式は変換できないため、添付しませんでした。原本は保管しています。",
		"This kind of file cannot be converted, so it was not attached. The original is kept."},
	ReasonNotKeepable: {
		"メールの中のメールはそのまま渡せません。",
		"A message inside the message cannot be passed as it is."},
	ReasonDepthLimit: {
		"入れ子が深すぎる部分です。",
		"This part is nested too deeply."},
	ReasonPartLimit: {
		"部分の数が上限を超えたため、以降の部分をすべて削除しました。",
		"The mail has too many parts; this and all later parts were removed."},
	ReasonHeaderLimit: {
		"ヘッダが大きすぎる部分です。",
		"This part's header is too large."},
	ReasonSizeLimit: {
		"大きすぎる部分です。",
		"This part is too large."},
	ReasonHiddenContent: {
		"メールの構造の外側に、隠された内容がありました。",
		"Content was hidden outside the mail's structure."},
	ReasonMalformedMIME: {
		"メールの構造が壊れている部分です。",
		"The mail's structure is broken here."},
	ReasonUnparseable: {
		"メールの構造が壊れている部分です。",
		"The mail's structure is broken here."},
	ReasonUnknownEncoding: {
		"転送エンコーディングを解読できない部分です。",
		"This part's transfer encoding could not be decoded."},
	ReasonEncodingError: {
		"転送エンコーディングを解読できない部分です。",
		"This part's transfer encoding could not be decoded."},
	// The notice says which limit from the decision's detail when it can
	// (sanitize: bodyLimitText); this is what it says otherwise.
	ReasonBodyLimit: {
		"本文が処理の上限を超えました。",
		"The body text exceeded a processing limit."},
}
