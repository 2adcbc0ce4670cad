// Package token makes and checks the portal's stateless link tokens: a
// token names a gateway id and an expiry and carries an HMAC-SHA256 over
// both, so any node holding the same secret verifies it without stored
// state. MAC gives keyed tags for other uses (CSRF tokens), separated
// from link tokens and from each other by a purpose string.
//
// A link token is base64url (no padding) of
//
//	version (1 byte, 1) | expiry (8 bytes, big-endian unix seconds) | id | MAC (32 bytes)
//
// where MAC = HMAC-SHA256(secret, frame("mugai-portal-link-v1", version|expiry, id))
// and frame writes each field with an 8-byte big-endian length before it,
// so no two different field lists frame alike. MAC's tags frame
// ("mugai-portal-mac-v1", purpose, parts...), which can never equal a
// link's frame.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"time"
)

const (
	linkDomain = "mugai-portal-link-v1"
	macDomain  = "mugai-portal-mac-v1"
	version    = 1

	// MaxIDLen is the longest id a token can name (gateway ids are 28
	// bytes). Sign of an empty or longer id makes a token that never
	// verifies.
	MaxIDLen = 128

	headLen = 1 + 8
	macLen  = sha256.Size
)

// maxTokenLen bounds Verify's input before any decoding or hashing.
var maxTokenLen = b64.EncodedLen(headLen + MaxIDLen + macLen)

var b64 = base64.RawURLEncoding.Strict()

// Sign returns the link token for id, valid until expires (cut to whole
// seconds, so a token never outlives expires).
func Sign(secret []byte, id string, expires time.Time) string {
	buf := make([]byte, headLen, headLen+len(id)+macLen)
	buf[0] = version
	binary.BigEndian.PutUint64(buf[1:headLen], uint64(expires.Unix()))
	buf = append(buf, id...)
	buf = append(buf, linkMAC(secret, buf[:headLen], id)...)
	return b64.EncodeToString(buf)
}

// Verify returns the id and expiry a token names when its MAC is right
// (compared in constant time) and now is before its expiry. Any other
// token (tampered, truncated, made with another secret, expired,
// malformed, over-long, not in canonical base64url) gives ok false and
// nothing else.
func Verify(secret []byte, tok string, now time.Time) (id string, expires time.Time, ok bool) {
	if len(tok) > maxTokenLen || len(tok) < b64.EncodedLen(headLen+1+macLen) {
		return "", time.Time{}, false
	}
	buf, err := b64.DecodeString(tok)
	// The decoder skips CR and LF: only the canonical spelling is a
	// token, so that a token names one string.
	if err != nil || b64.EncodedLen(len(buf)) != len(tok) {
		return "", time.Time{}, false
	}
	if buf[0] != version {
		return "", time.Time{}, false
	}
	head, body, mac := buf[:headLen], buf[headLen:len(buf)-macLen], buf[len(buf)-macLen:]
	if len(body) == 0 || len(body) > MaxIDLen {
		return "", time.Time{}, false
	}
	if !hmac.Equal(mac, linkMAC(secret, head, string(body))) {
		return "", time.Time{}, false
	}
	expires = time.Unix(int64(binary.BigEndian.Uint64(head[1:])), 0)
	if !now.Before(expires) {
		return "", time.Time{}, false
	}
	return string(body), expires, true
}

// MAC returns a keyed tag (base64url, no padding) over parts for one
// purpose: tags of different purposes, or of parts split differently
// (("ab", "c") and ("a", "bc")), differ. Compare tags with Equal.
func MAC(secret []byte, purpose string, parts ...string) string {
	m := hmac.New(sha256.New, secret)
	frame(m, macDomain)
	frame(m, purpose)
	for _, p := range parts {
		frame(m, p)
	}
	return b64.EncodeToString(m.Sum(nil))
}

// Equal reports whether a and b are equal, in time that depends only on
// their lengths.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func linkMAC(secret, head []byte, id string) []byte {
	m := hmac.New(sha256.New, secret)
	frame(m, linkDomain)
	frame(m, string(head))
	frame(m, id)
	return m.Sum(nil)
}

// frame writes s with its length before it.
func frame(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}
