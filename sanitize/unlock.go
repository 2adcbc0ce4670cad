package sanitize

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"

	"mugai/policy"
	"mugai/sanitize/archive"
	"mugai/sanitize/detect"
	"mugai/sanitize/format"
	"mugai/sanitize/mailwrite"
	"mugai/sanitize/text"
)

// Errors of Unlock, for errors.Is.
var (
	// ErrWrongPassword: the password does not open the archive (or a
	// member failed its integrity check after the password check
	// passed: see archive.ErrPassword). Nothing is delivered.
	ErrWrongPassword = archive.ErrPassword
	// ErrNotEncrypted: the part is not an encrypted ZIP.
	ErrNotEncrypted = errors.New("sanitize: the part is not an encrypted ZIP")
	// ErrNotOpened: the policy would not open this archive if it were
	// not encrypted (its rule does not disarm ZIPs, or a built-in check
	// removes it: a dangerous name, a disguised type).
	ErrNotOpened = errors.New("sanitize: the policy does not open this archive")
	// ErrArchive: the archive cannot be opened (a limit, a defect, an
	// encryption or compression not supported); it wraps archive's
	// error.
	ErrArchive = errors.New("sanitize: the archive cannot be opened")
)

// UnlockRequest asks to open one encrypted ZIP kept in an original.
type UnlockRequest struct {
	Archive  []byte // the encrypted ZIP as the original held it (transfer-decoded; see FindLocked)
	Filename string // its name in the original, for the notice
	// DeclaredType and Filenames are what the rebuild decided the part
	// on besides its bytes: its Content-Type and every name it gives
	// (see FindLocked). Left empty, a disguised ZIP (declared a PDF,
	// named two ways) would be opened though the rebuild would have
	// removed it unencrypted.
	DeclaredType string
	Filenames    []string
	Password     []byte   // never stored; the caller zeroes it after
	Env          Envelope // ID: the NEW message's gateway id; From: the gateway's sender; Rcpts: the asking recipient; Received: now; Portal: the original's page
	OrigID       string   // gateway id of the original
	Part         string   // the part's path in the original
	Subject      string   // the original's decoded subject
	// Sender and Auth are what rules may match on besides the members,
	// as in the original's rebuild: its envelope sender and its trusted
	// Authentication-Results (TrustedAuth of the original). Left empty,
	// rules that name a sender or an authentication result do not match.
	Sender string
	Auth   []policy.AuthResult
}

// Unlocked is the message to deliver and the decisions about its members
// (for the audit log).
type Unlocked struct {
	Message   []byte
	Decisions []policy.Decision
	Kept      int // members delivered, sanitized
	Removed   int // members removed
}

// Unlock decrypts the encrypted ZIP of req in memory with req.Password
// and decides each of its members exactly as a member of any ZIP the
// rebuild opens (the policy, the built-in checks, nested archives, the
// limits and budgets of rb.Limits, the deadline of ctx, failing closed).
// It returns a new message for req.Env.Rcpts, from req.Env.From, with the
// sanitized members attached and a notice listing every member's
// decision. The decisions' paths are req.Part/1, req.Part/2, … and their
// message id is req.OrigID (the paths are the original's).
//
// A wrong password returns ErrWrongPassword and no message. It also
// returns ErrNotEncrypted, ErrNotOpened, ErrArchive (wrapping archive's
// error), an error wrapping ErrDeadline when ctx ends, a
// *PanicError on a bug. Nothing of the password is kept or put in an
// error.
func (rb *Rebuilder) Unlock(ctx context.Context, req UnlockRequest) (res *Unlocked, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if len(req.Env.Rcpts) == 0 {
		return nil, errors.New("sanitize: unlock: no recipient")
	}
	lim := rb.Limits.withDefaults()
	st := &state{ctx: ctx, spend: spend{budget: format.NewBudget(lim.MaxExpansion, nil), members: lim.MaxArchiveMembers},
		about: about{sender: req.Sender, rcpts: req.Env.Rcpts, auth: req.Auth, authSet: true}}
	names := req.Filenames
	if len(names) == 0 && req.Filename != "" {
		names = []string{req.Filename}
	}
	f := file{path: req.Part, declared: req.DeclaredType, filename: req.Filename, filenames: names, body: req.Archive, size: int64(len(req.Archive))}
	if err := rb.checkUnlockable(st, f); err != nil {
		return nil, err
	}
	al, ok := rb.archiveLimits(st)
	if !ok {
		return nil, fmt.Errorf("%w: no archive budget", ErrArchive)
	}
	members, err := archive.ReadEncrypted(req.Archive, req.Password, al)
	switch {
	case st.stop(err):
		return nil, st.abort
	case errors.Is(err, archive.ErrPassword):
		return nil, ErrWrongPassword // which member failed is of no use to anyone asking
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrArchive, err)
	}
	st.members -= len(members)
	kept, items, ok := rb.decideMembers(st, f, req.OrigID, members)
	if !ok || st.stop(nil) {
		return nil, st.abort
	}
	res = &Unlocked{Kept: len(kept), Removed: len(members) - len(kept)}
	var listed []noticeItem
	for _, it := range items {
		res.Decisions = append(res.Decisions, it.decision)
		if !it.auditOnly {
			listed = append(listed, it)
		}
	}
	res.Message = rb.unlockedMessage(req, listed, kept)
	return res, nil
}

// LockedPart is a part of an original to unlock, as the rebuild saw it.
type LockedPart struct {
	Part
	Filenames []string // every name the part gives, Filename first
}

// FindLocked is FindPart with every name the part gives: what an
// UnlockRequest needs (Archive, Filename, DeclaredType, Filenames).
func FindLocked(r io.Reader, path string, lim Limits) (LockedPart, error) {
	root, err := parseMessage(r, lim)
	if err != nil {
		return LockedPart{}, fmt.Errorf("sanitize: read message: %w", err)
	}
	for _, leaf := range root.leaves() {
		if leaf.path == path && leaf.problem == "" {
			return LockedPart{Part: Part{Path: path, Filename: leaf.filename, DeclaredType: leaf.declared, Body: leaf.body,
				SHA256: sha256Hex(leaf.body)}, Filenames: slices.Clone(leaf.filenames)}, nil
		}
	}
	return LockedPart{}, fmt.Errorf("sanitize: no readable part %s in the message", path)
}

// checkUnlockable refuses what is not an encrypted ZIP, and a ZIP the
// rebuild would not open if it were not encrypted: the rule that decides
// it without the encrypted flag must disarm it (open it, for a ZIP), and
// no built-in check may remove it.
func (rb *Rebuilder) checkUnlockable(st *state, f file) error {
	id := detect.Detect(f.body, f.declared, f.filenames)
	if id.Type != detect.TypeZIP || !id.Has(policy.FlagEncrypted) {
		return fmt.Errorf("%w (%s)", ErrNotEncrypted, id.Type)
	}
	id.Flags = slices.DeleteFunc(slices.Clone(id.Flags), func(fl policy.Flag) bool { return fl == policy.FlagEncrypted })
	rule := rb.Policy.Evaluate(st.subject(policy.RoleAttachment, id.Type, f.declared, f.filename, f.size, id.Flags))
	if o, removed := builtinCheck(f, id, rule, policy.Decision{}); removed {
		return fmt.Errorf("%w: %s (%s)", ErrNotOpened, o.decision.Reason, o.decision.Detail)
	}
	if rule.Action != policy.ActionDisarm {
		return fmt.Errorf("%w: rule %s says %s", ErrNotOpened, rule.ID, rule.Action)
	}
	return nil
}

// unlockedPrefix begins the subject of an unlocked message.
const unlockedPrefix = "開封済み: "

// unlockedMessage writes the unlocked message with the rebuild's writer:
// from the gateway to the asking recipient, the notice as its text, the
// kept members attached under their rebuilt names, and X-Mugai-Actions
// counting the members' decisions.
func (rb *Rebuilder) unlockedMessage(req UnlockRequest, items []noticeItem, kept []keptMember) []byte {
	host := rb.hostname()
	from := req.Env.From
	if from == "" {
		from = "postmaster@" + host
	}
	date := req.Env.Received
	if date.IsZero() {
		date = time.Now()
	}
	hdr := headers{
		from:      []*mail.Address{{Name: "mugai", Address: from}},
		subject:   unlockedPrefix + text.CleanLine(req.Subject),
		date:      date,
		messageID: "<" + orRandomID(req.Env.ID) + "@" + host + ">",
		// The sender's body is not in it: what was done is the members'.
		actions: actionsValue(items, false, ""),
	}
	for _, r := range req.Env.Rcpts {
		hdr.to = append(hdr.to, &mail.Address{Address: r})
	}
	atts := make([]attachment, len(kept))
	for i, k := range kept {
		atts[i] = k.att
	}
	// Nested: no Received or X-Mugai-Id from rb.write (the message was
	// not received); the gateway's fields come first.
	msg := rb.write(Envelope{Nested: true}, hdr, composeUnlocked(rb.Policy.Body, req, items), atts)
	var h mailwrite.Header
	if req.Env.ID != "" {
		h.Add("X-Mugai-Id", req.Env.ID)
	}
	h.Add("X-Mugai-Unlocked", req.OrigID+" part "+req.Part)
	return append(h.Fields(), msg...)
}

func orRandomID(id string) string {
	if id != "" {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// composeUnlocked is the unlocked message's text: the notice, as the
// rebuild writes it (Japanese first, English beside it when the policy's
// notice_languages has it), saying where the files come from and listing
// every member's decision.
func composeUnlocked(opts policy.Body, req UnlockRequest, items []noticeItem) string {
	name, orig := orName(noticeSafe(req.Filename)), noticeSafe(req.OrigID)
	var b strings.Builder
	w := noticeWriter{b: &b, en: opts.NoticeEN()}
	b.WriteString(noticeRule + "\n")
	b.WriteString(w.line("【無害化処理のお知らせ】", "Sanitization notice") + "\n")
	writeLosses(w, items)
	fmt.Fprintf(&b, "このメールは、原本 %s に添付されていたパスワード付き ZIP ファイル「%s」の中身です。\n", orig, name)
	b.WriteString("受信者が入力したパスワードで開き、中のファイルを一つずつ市の情報セキュリティポリシー（無害化通信）に\n")
	w.pair("基づいて処理してから配送しました。",
		fmt.Sprintf("This mail holds the contents of the password-protected ZIP file \"%s\"\n", name)+
			fmt.Sprintf("of original %s, opened with the password the recipient entered.\n", orig)+
			"Each file in it was processed under the city's security policy (sanitized\n"+
			"communication) before delivery.")
	if len(items) == 0 {
		b.WriteString("\n" + w.line("ZIP ファイルにはファイルがありませんでした。", "The ZIP file held no files.") + "\n")
	} else {
		b.WriteString("\n" + w.both("処理した部分", "Parts changed or removed") + ":\n")
		for _, it := range items {
			it.write(w)
		}
	}
	b.WriteString("\n" + w.line("入力されたパスワードはどこにも保存していません。", "The password entered was not stored.") + "\n")
	b.WriteString("\n" + w.both("原本保管番号", "Original kept as") + ": " + orig + "\n")
	if req.Env.Portal != "" {
		// As composeText writes it: the one live link of the text.
		w.pair("原本や削除された添付ファイルが必要な場合は、次のページから申請できます（原本の保管期間中有効）。",
			"To ask for the original or a removed attachment, open this page (valid while the original is kept):")
		b.WriteString(req.Env.Portal + "\n")
	} else {
		w.pair("原本が必要な場合は、この番号を添えてシステム管理者に連絡してください。",
			"If you need the original, ask the mail administrator and quote this number.")
	}
	b.WriteString(noticeRule + "\n")
	return b.String()
}

// TrustedAuth returns the trusted Authentication-Results of a message, as
// its rebuild gave them to the rules (for UnlockRequest.Auth): only its
// header is read, within Limits.MaxHeaderBytes; a header that is too
// large or does not parse has none.
func (rb *Rebuilder) TrustedAuth(msg io.Reader) []policy.AuthResult {
	block, err := readHeaderBlock(bufio.NewReader(msg), rb.Limits.withDefaults().MaxHeaderBytes)
	if err != nil {
		return nil
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(block)))
	if err != nil {
		return nil
	}
	var fields []policy.Field
	for f := h.Fields(); f.Next(); {
		fields = append(fields, policy.Field{Name: f.Key(), Value: f.Value()})
	}
	return rb.Policy.Authentication.TrustedResults(fields)
}
