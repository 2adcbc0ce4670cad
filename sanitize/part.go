package sanitize

import (
	"fmt"
	"io"
)

// Part is one leaf of a message as the walker reads it (decoded), for
// releasing an original part by the path its decision names.
type Part struct {
	Path         string
	Filename     string
	DeclaredType string
	Body         []byte
	SHA256       string
}

// FindPart reads a message with the same walker and limits as Rebuild and
// returns the leaf at path ("1", "2", "2.1"). Parts inside a forwarded
// message (paths with "/") are not reachable this way: release the part
// that holds the whole forwarded message instead.
func FindPart(r io.Reader, path string, lim Limits) (Part, error) {
	root, err := parseMessage(r, lim)
	if err != nil {
		return Part{}, fmt.Errorf("sanitize: read message: %w", err)
	}
	for _, leaf := range root.leaves() {
		if leaf.path == path && leaf.problem == "" {
			return Part{Path: path, Filename: leaf.filename, DeclaredType: leaf.declared, Body: leaf.body, SHA256: sha256Hex(leaf.body)}, nil
		}
	}
	return Part{}, fmt.Errorf("sanitize: no readable part %s in the message", path)
}
