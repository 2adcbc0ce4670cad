// Package auth holds what the portal's pages need to know who is asking
// and how often: approvers' passwords from an htpasswd file (bcrypt
// only), a user name from a trusted SSO proxy's header, in-memory login
// sessions, and limits on attempts (Limiter) and request rates (Rate).
// Every map in it is bounded, so a flood of names or addresses cannot
// grow memory without limit.
package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

const (
	// maxUsersFile bounds what LoadUsers reads (some 50,000 users).
	maxUsersFile = 4 << 20
	// bcrypt costs htpasswd -B -C accepts.
	minCost, maxCost = 4, 17
	// bcrypt uses the first 72 bytes of a password, as Apache does.
	maxPassword = 72
	bcryptLen   = 60
	bcryptChars = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

var bcryptEncoding = base64.NewEncoding(bcryptChars).WithPadding(base64.NoPadding)

// Users are the approvers of an htpasswd file as Apache's `htpasswd -B`
// writes it: "name:hash" lines, bcrypt hashes ($2y$, $2a$ or $2b$, cost
// 4 to 17) only; blank lines and lines starting with '#' are skipped, as
// Apache does. Any other hash kind (MD5 $apr1$, {SHA}, crypt, plain
// text), a malformed line or a name given twice is refused at load with
// file:line.
//
// Reloading: Check looks at the file each time (one stat) and loads it
// again when its size, modification time or inode changed, so an admin's
// `htpasswd -B` takes effect at the next login; Reload forces it (for
// SIGHUP). A file that changed and no longer loads refuses every login
// (fail closed) until it loads again; Err says why. Users may be used
// concurrently.
type Users struct {
	path string

	mu    sync.RWMutex
	users map[string][]byte
	dummy []byte // compared for unknown names: same cost as the costliest user
	stamp os.FileInfo
	err   error
}

// LoadUsers reads the htpasswd file at path.
func LoadUsers(path string) (*Users, error) {
	u := &Users{path: path}
	if err := u.Reload(); err != nil {
		return nil, err
	}
	return u, nil
}

// Reload reads the file again. On error, every login is refused until a
// later Reload or Check loads it.
func (u *Users) Reload() error {
	users, dummy, fi, err := loadFile(u.path)
	u.mu.Lock()
	defer u.mu.Unlock()
	if err != nil {
		u.err, u.stamp = err, nil
		return err
	}
	u.users, u.dummy, u.stamp, u.err = users, dummy, fi, nil
	return nil
}

// Err returns why the file could not be loaded at the last try (every
// login refused meanwhile), or nil.
func (u *Users) Err() error {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return u.err
}

// Len returns how many users the file holds.
func (u *Users) Len() int {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return len(u.users)
}

// Check reports whether password is name's. It runs one bcrypt compare
// whether or not name exists, so its time does not tell which names do.
// Bytes of password past 72 are ignored, as bcrypt and Apache do.
func (u *Users) Check(name, password string) bool {
	u.refresh()
	u.mu.RLock()
	hash, known := u.users[name]
	if !known || u.err != nil {
		hash, known = u.dummy, false
	}
	u.mu.RUnlock()
	pw := []byte(password)
	if len(pw) > maxPassword {
		pw = pw[:maxPassword]
	}
	err := bcrypt.CompareHashAndPassword(hash, pw)
	return err == nil && known
}

// Stamp returns a fingerprint of name's entry in the file as it is now
// (checked as Check checks it), false when the file no longer has name
// or does not load. A login binds its session to it: removing the user
// or changing the password ends the session at its next request.
func (u *Users) Stamp(name string) (string, bool) {
	u.refresh()
	u.mu.RLock()
	defer u.mu.RUnlock()
	hash, known := u.users[name]
	if !known || u.err != nil {
		return "", false
	}
	sum := sha256.Sum256(hash)
	return string(sum[:]), true
}

// refresh reloads the file when it changed since it was loaded.
func (u *Users) refresh() {
	fi, err := os.Stat(u.path)
	u.mu.RLock()
	same := err == nil && u.stamp != nil && sameFile(fi, u.stamp)
	u.mu.RUnlock()
	if !same {
		u.Reload()
	}
}

func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

func loadFile(path string) (map[string][]byte, []byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("portal users: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("portal users: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxUsersFile+1))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("portal users: %w", err)
	}
	if len(data) > maxUsersFile {
		return nil, nil, nil, fmt.Errorf("portal users %s: larger than %d bytes", path, maxUsersFile)
	}
	users, cost, err := parseUsers(path, data)
	if err != nil {
		return nil, nil, nil, err
	}
	return users, dummyHash(cost), fi, nil
}

// parseUsers parses an htpasswd file's content; errors name file:line.
// It returns the users' hashes and the highest cost among them
// (bcrypt.DefaultCost when there are none).
func parseUsers(file string, data []byte) (map[string][]byte, int, error) {
	users := map[string][]byte{}
	lineOf := map[string]int{}
	cost := 0
	var errs []error
	for n, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		name, hash, ok := strings.Cut(s, ":")
		err := error(nil)
		if !ok {
			err = errors.New(`not "name:hash"`)
		} else if err = checkName(name); err == nil {
			err = checkHash(name, hash)
		}
		if err == nil && lineOf[name] != 0 {
			err = fmt.Errorf("user %q already on line %d", name, lineOf[name])
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", file, n+1, err))
			continue
		}
		users[name], lineOf[name] = []byte(hash), n+1
		c, _ := strconv.Atoi(hash[4:6])
		cost = max(cost, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	return users, cost, nil
}

// checkHash refuses what is not a bcrypt hash as htpasswd -B writes it,
// naming the kind it looks like; it never quotes the hash.
func checkHash(name, h string) error {
	kind := hashKind(h)
	if kind != "bcrypt" {
		return fmt.Errorf("user %q: the password hash is %s; only bcrypt is accepted (htpasswd -B)", name, kind)
	}
	if len(h) != bcryptLen || h[6] != '$' || !isDigit(h[4]) || !isDigit(h[5]) {
		return fmt.Errorf("user %q: malformed bcrypt hash", name)
	}
	if cost, _ := strconv.Atoi(h[4:6]); cost < minCost || cost > maxCost {
		return fmt.Errorf("user %q: bcrypt cost %d outside %d to %d", name, cost, minCost, maxCost)
	}
	for i := 7; i < len(h); i++ {
		if !strings.Contains(bcryptChars, h[i:i+1]) {
			return fmt.Errorf("user %q: malformed bcrypt hash", name)
		}
	}
	if _, err := bcrypt.Cost([]byte(h)); err != nil {
		return fmt.Errorf("user %q: malformed bcrypt hash", name)
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func hashKind(h string) string {
	switch {
	case strings.HasPrefix(h, "$2y$"), strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"):
		return "bcrypt"
	case strings.HasPrefix(h, "$2"):
		return "an unsupported bcrypt variant"
	case strings.HasPrefix(h, "$apr1$"):
		return "Apache MD5 ($apr1$, htpasswd -m)"
	case strings.HasPrefix(h, "{SHA}"):
		return "SHA-1 ({SHA}, htpasswd -s)"
	case strings.HasPrefix(h, "$1$"):
		return "MD5 crypt ($1$)"
	case strings.HasPrefix(h, "$5$"), strings.HasPrefix(h, "$6$"):
		return "SHA-2 crypt (htpasswd -2 or -5)"
	case h == "":
		return "empty"
	case len(h) == 13:
		return "DES crypt or plain text (htpasswd -d or -p)"
	}
	return "plain text or of an unknown kind"
}

// dummyHash returns a bcrypt hash of cost that no password matches
// (random salt and digest): comparing with it costs what comparing with
// a real one of that cost does.
func dummyHash(cost int) []byte {
	var salt [16]byte
	var sum [23]byte
	rand.Read(salt[:])
	rand.Read(sum[:])
	return fmt.Appendf(nil, "$2y$%02d$%s%s", cost, bcryptEncoding.EncodeToString(salt[:]), bcryptEncoding.EncodeToString(sum[:]))
}
