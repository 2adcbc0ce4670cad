package courier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mugai/gateway/safeio"
)

// Maildir delivers into one Maildir per recipient below Root:
// Root/<recipient>/{tmp,new,cur}. Each message is written to tmp/, fsynced,
// renamed into new/, and new/ is fsynced.
type Maildir struct {
	Root string
}

// Name implements Courier.
func (m *Maildir) Name() string { return "maildir " + m.Root }

// Deliver implements Courier.
func (m *Maildir) Deliver(_ context.Context, from string, rcpts []string, msg []byte) []Result {
	results := make([]Result, len(rcpts))
	for i, r := range rcpts {
		results[i].Rcpt = r
		if err := errors.Join(checkAddress(from, true), checkAddress(r, false)); err != nil {
			// Return-Path and Delivered-To are written from these.
			results[i].Err = &Error{Permanent: true, Msg: "maildir: not stored: " + err.Error()}
			results[i].Reply = results[i].Err.Error()
			continue
		}
		if err := m.deliverOne(from, r, msg); err != nil {
			results[i].Err = &Error{Msg: "maildir: " + err.Error(), Err: err}
			results[i].Reply = results[i].Err.Error()
			continue
		}
		results[i].Reply = "stored in " + filepath.Join(m.Root, FolderName(r), "new")
	}
	return results
}

func (m *Maildir) deliverOne(from, rcpt string, msg []byte) error {
	box := filepath.Join(m.Root, FolderName(rcpt))
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := safeio.MkdirAll(filepath.Join(box, sub), 0o750); err != nil {
			return err
		}
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	host, _ := os.Hostname()
	name := fmt.Sprintf("%d.%s.%s", time.Now().UnixNano(), hex.EncodeToString(rnd[:]), strings.ReplaceAll(host, "/", "_"))
	// As a local delivery agent does, record the envelope on top.
	head := "Return-Path: <" + from + ">\r\nDelivered-To: " + rcpt + "\r\n"
	tmp := filepath.Join(box, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(append([]byte(head), msg...)); err != nil {
		safeio.Discard(f)
		return err
	}
	if err := safeio.Commit(f, filepath.Join(box, "new", name)); err != nil {
		return err
	}
	return safeio.SyncDir(filepath.Join(box, "new"))
}

// FolderName maps a recipient address to a safe folder name: lower-case,
// with anything but letters, digits and . _ + - @ percent-encoded.
func FolderName(rcpt string) string {
	var b strings.Builder
	for _, c := range []byte(strings.ToLower(rcpt)) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '+', c == '-', c == '@':
			b.WriteByte(c)
		case c == '.' && b.Len() > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
