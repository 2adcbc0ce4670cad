package auth

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/crypto/bcrypt"

	"mugai/gateway/safeio"
)

// NewCost is the bcrypt cost SetPassword writes (htpasswd -B writes 5;
// a login is rare, so a slower hash costs nothing).
const NewCost = 12

// SetPassword sets name's password in the htpasswd file at path, as
// `htpasswd -B` would: the user's line is replaced, or added at the end;
// every other line (comments included) is kept. A missing file is
// created. The file is written durably with mode 0600 and re-read by a
// running portal on its next login.
func SetPassword(path, name string, password []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if strings.Contains(name, ":") {
		return errors.New("a user name cannot hold ':'")
	}
	if len(password) == 0 || len(password) > 72 {
		return errors.New("the password must be 1 to 72 bytes (bcrypt's limit)")
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("portal users: %w", err)
	}
	owner := ownerOf(path) // kept: root editing the file must not lock the gateway's user out of it
	if _, _, err := parseUsers(path, old); err != nil {
		return fmt.Errorf("not changed, the file has problems: %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword(password, NewCost)
	if err != nil {
		return err
	}
	entry := name + ":" + string(hash)
	var out [][]byte
	done := false
	for _, line := range bytes.Split(bytes.TrimRight(old, "\n"), []byte("\n")) {
		if n, _, ok := strings.Cut(strings.TrimSpace(string(line)), ":"); ok && n == name {
			line, done = []byte(entry), true
		}
		if len(line) > 0 || len(out) > 0 {
			out = append(out, line)
		}
	}
	if !done {
		out = append(out, []byte(entry))
	}
	if err := safeio.WriteFile(path, append(bytes.Join(out, []byte("\n")), '\n'), 0o600); err != nil {
		return err
	}
	if owner != nil {
		if err := os.Chown(path, owner.uid, owner.gid); err != nil {
			return fmt.Errorf("%s written, but its owner could not be kept (%w): chown it to the user mugai runs as", path, err)
		}
	}
	return safeio.SyncDir(filepath.Dir(path))
}

type fileOwner struct{ uid, gid int }

// ownerOf is the owner of an existing file, nil when there is none or it
// is the caller already.
func ownerOf(path string) *fileOwner {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || (int(st.Uid) == os.Getuid() && int(st.Gid) == os.Getgid()) {
		return nil
	}
	return &fileOwner{uid: int(st.Uid), gid: int(st.Gid)}
}
