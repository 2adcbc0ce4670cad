package sanitize

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"slices"
	"strings"

	"github.com/emersion/go-message/textproto"

	"mugai/policy"
	"mugai/sanitize/text"
)

var (
	errHeaderTooLarge = errors.New("sanitize: header too large")
	errBadBase64      = errors.New("sanitize: invalid base64")
)

// node is one MIME entity of the parsed message. A multipart node has
// children; every other node is a leaf with its decoded body. A node with a
// problem is a leaf whatever its type: it could not be (fully) understood
// and is removed.
type node struct {
	path        string
	header      textproto.Header
	declared    string            // media type as declared, lower-case; "" when unparseable
	params      map[string]string // Content-Type parameters
	disposition string
	filename    string   // the name shown: filename (RFC 2231 first), else name
	filenames   []string // every distinct candidate name the part gives
	children    []*node
	body        []byte
	size        int64 // decoded bytes (or raw bytes when undecodable)
	problem     policy.Reason
	detail      string
	role        policy.Role
}

func (n *node) isMultipart() bool {
	return n.problem == "" && strings.HasPrefix(n.declared, "multipart/")
}

// leaves returns the leaf nodes in document order.
func (n *node) leaves() []*node {
	if !n.isMultipart() {
		return []*node{n}
	}
	var out []*node
	for _, c := range n.children {
		out = append(out, c.leaves()...)
	}
	return out
}

type walker struct {
	lim     Limits
	count   int
	stopped bool     // the part limit was reached, or the stream ended early
	bounds  []string // boundaries of the enclosing multiparts
	hint    int64    // the message's size when the reader tells it, else 0
	// copies counts bodies read as copies although the walker held them
	// (the multipart reader found a part elsewhere than partBodyStart
	// said); copyAll makes every read a copy. Both for tests.
	copies  int
	copyAll bool
	scratch []byte // readRaw's read buffer
	// b64batch is the batch buffer of the base64 leaves, one at a time.
	b64batch []byte
}

// parseMessage reads a whole message into a tree. It never fails on
// content: what cannot be parsed becomes a node with a problem. The error is
// only for reads from r failing.
//
// The message is held once: the outermost multipart reads its body into
// one buffer (a message in memory is used in place), and every part below
// it, at any depth, is a slice of that buffer; only transfer-decoded leaves
// are new bytes.
func parseMessage(r io.Reader, lim Limits) (*node, error) {
	return (&walker{lim: lim.withDefaults()}).parse(r)
}

func (w *walker) parse(r io.Reader) (*node, error) {
	w.hint = sizeHint(r)
	br := bufio.NewReader(r)
	block, err := readHeaderBlock(br, w.lim.MaxHeaderBytes)
	root := &node{path: "1"}
	if errors.Is(err, errHeaderTooLarge) {
		root.problem, root.detail = policy.ReasonHeaderLimit, fmt.Sprintf("message header larger than %d bytes", w.lim.MaxHeaderBytes)
		root.size = int64(len(block))
		return root, drain(br)
	}
	if err != nil {
		return nil, err
	}
	h, herr := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(block)))
	if herr != nil {
		root.problem, root.detail = policy.ReasonUnparseable, "message header: "+herr.Error()
		rest, rerr := io.ReadAll(br)
		root.size = int64(len(block) + len(rest))
		return root, rerr
	}
	w.count = 1
	body := source{r: br}
	if mb, ok := r.(*messageBytes); ok {
		body.known = mb.b[len(block):]
	}
	w.entity(root, h, body, 0, "text/plain")
	return root, nil
}

// readHeaderBlock reads up to and including the blank line that ends a
// header, refusing more than max bytes. A message with no blank line is all
// header.
func readHeaderBlock(br *bufio.Reader, max int) ([]byte, error) {
	var block []byte
	for {
		line, err := br.ReadSlice('\n')
		block = append(block, line...)
		if len(block) > max {
			return block, errHeaderTooLarge
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			return block, nil
		}
		if err != nil {
			return block, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return block, nil
		}
	}
}

func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// entity fills n from its header and body.
func (w *walker) entity(n *node, h textproto.Header, body source, depth int, defaultType string) {
	n.header = h
	if size := headerSize(h); size > w.lim.MaxHeaderBytes {
		n.problem, n.detail = policy.ReasonHeaderLimit, fmt.Sprintf("part header of %d bytes", size)
		w.readLeaf(n, body, "")
		return
	}
	n.declared, n.params, n.disposition, n.filename = w.contentInfo(n, defaultType)
	if n.problem != "" {
		w.readLeaf(n, body, "")
		return
	}
	if strings.HasPrefix(n.declared, "multipart/") {
		if depth+1 >= w.lim.MaxDepth {
			n.problem, n.detail = policy.ReasonDepthLimit, fmt.Sprintf("nesting deeper than %d", w.lim.MaxDepth)
			w.readLeaf(n, body, "")
			return
		}
		w.multipart(n, body, depth)
		return
	}
	cte, ok := singleValue(h, "Content-Transfer-Encoding")
	if !ok {
		n.problem, n.detail = policy.ReasonMalformedMIME, "conflicting Content-Transfer-Encoding fields"
	}
	w.readLeaf(n, body, cte)
}

// contentInfo parses Content-Type and Content-Disposition. Conflicting
// duplicates make the part malformed: we do not guess which one a client
// would believe.
func (w *walker) contentInfo(n *node, defaultType string) (mt string, ps map[string]string, disp, filename string) {
	ct, ok := singleValue(n.header, "Content-Type")
	if !ok {
		n.problem, n.detail = policy.ReasonMalformedMIME, "conflicting Content-Type fields"
		return "", nil, "", ""
	}
	ctp := text.ParseParams(ct)
	mt, ps = ctp.Value, ctp.Map
	switch {
	case strings.TrimSpace(ct) == "":
		mt = defaultType
	case !validMediaType(mt):
		n.problem, n.detail = policy.ReasonMalformedMIME, "unparseable Content-Type"
		return mt, ps, "", ""
	case slices.Contains(ctp.Dups, "boundary") || slices.Contains(ctp.Dups, "charset"):
		n.problem, n.detail = policy.ReasonMalformedMIME, "conflicting Content-Type parameters"
	case ctp.Extended["boundary"] && strings.HasPrefix(mt, "multipart/"):
		// Many parsers do not join RFC 2231 continuations for the boundary:
		// they would split this part elsewhere than we do.
		n.problem, n.detail = policy.ReasonMalformedMIME, "boundary given in RFC 2231 form"
	}
	cd, ok := singleValue(n.header, "Content-Disposition")
	if !ok {
		n.problem, n.detail = policy.ReasonMalformedMIME, "conflicting Content-Disposition fields"
	}
	cdp := text.ParseParams(cd)
	disp = cdp.Value
	for _, cand := range []string{cdp.Map["filename"], ps["name"]} {
		if cand != "" && !slices.Contains(n.filenames, cand) {
			n.filenames = append(n.filenames, cand)
		}
	}
	if len(n.filenames) > 0 {
		filename = n.filenames[0]
	}
	return mt, ps, disp, filename
}

// validMediaType checks type/subtype made of token characters.
func validMediaType(mt string) bool {
	typ, sub, ok := strings.Cut(mt, "/")
	return ok && isToken(typ) && isToken(sub)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// singleValue returns the value of a field that must appear at most once.
// Identical repeats are tolerated; differing ones are not.
func singleValue(h textproto.Header, key string) (string, bool) {
	vs := h.Values(key)
	if len(vs) == 0 {
		return "", true
	}
	for _, v := range vs[1:] {
		if !strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(vs[0])) {
			return "", false
		}
	}
	return vs[0], true
}

func headerSize(h textproto.Header) int {
	size := 0
	for f := h.Fields(); f.Next(); {
		size += len(f.Key()) + len(f.Value()) + 4
	}
	return size
}

func (w *walker) multipart(n *node, body source, depth int) {
	boundary := n.params["boundary"]
	if boundary == "" || len(boundary) > 200 {
		n.problem, n.detail = policy.ReasonMalformedMIME, "multipart without a usable boundary"
		w.readLeaf(n, body, "")
		return
	}
	// Read the whole body: the preamble and epilogue, which the multipart
	// reader skips, are looked at too.
	src := &errReader{r: body.r}
	limit := 3*w.lim.MaxPartBytes + 4096
	raw := w.readRaw(src, body.known, limit)
	preamble, epilogue := outsideParts(raw, boundary)
	w.bounds = append(w.bounds, boundary)
	defer func() { w.bounds = w.bounds[:len(w.bounds)-1] }()
	hiddenContent(n, "preamble", preamble)
	defer hiddenContent(n, "epilogue", epilogue)
	mp := &multipartBody{raw: raw, boundary: boundary, mr: textproto.NewMultipartReader(bytes.NewReader(raw), boundary), childDefault: "text/plain"}
	if n.declared == "multipart/digest" {
		mp.childDefault = "message/rfc822"
	}
	if int64(len(raw)) > limit {
		mp.next = -1 // raw was cut: the parts' ends cannot be followed
	}
	for i := 1; !w.stopped; i++ {
		if !w.nextPart(n, mp, i, depth) {
			if src.err != nil && mp.ended {
				w.stopped = true // the stream ended inside this multipart
			}
			return
		}
	}
}

// multipartBody is a multipart being read: its body, the reader of its
// parts, and where the next part's body should begin in raw (parts are
// read from the multipart reader, whose rules decide where they are, and
// checked against raw from there; -1 once unknown).
type multipartBody struct {
	raw          []byte
	boundary     string
	mr           *textproto.MultipartReader
	next         int
	childDefault string
	ended        bool // the reader said there are no more parts
}

// hiddenContent adds a child with a problem for MIME-like content in a
// multipart's preamble or epilogue, where no client shows it.
func hiddenContent(n *node, where string, b []byte) {
	if hasMIMELikeContent(b) {
		n.children = append(n.children, &node{path: n.path + "." + where, body: b, size: int64(len(b)),
			problem: policy.ReasonHiddenContent, detail: fmt.Sprintf("%d bytes of MIME-like content in the %s", len(b), where)})
	}
}

// nextPart reads the i-th part of n into a new child and reports whether
// the walk goes on with the next one.
func (w *walker) nextPart(n *node, mp *multipartBody, i, depth int) bool {
	p, err := mp.mr.NextPart()
	if err == io.EOF {
		if len(n.children) == 0 { // RFC 2046 requires at least one part
			n.problem, n.detail = policy.ReasonMalformedMIME, "multipart with no parts"
		}
		mp.ended = true
		return false
	}
	child := &node{path: fmt.Sprintf("%s.%d", n.path, i)}
	if n.path == "1" && depth == 0 {
		child.path = fmt.Sprintf("%d", i)
	}
	n.children = append(n.children, child)
	if err != nil {
		child.problem, child.detail = policy.ReasonMalformedMIME, "broken multipart structure"
		return false
	}
	w.count++
	if w.count > w.lim.MaxParts {
		w.stopped = true
		child.problem, child.detail = policy.ReasonPartLimit, fmt.Sprintf("more than %d parts; this and all later parts removed", w.lim.MaxParts)
		return false
	}
	at := -1
	if mp.next >= 0 {
		at = partBodyStart(mp.raw, mp.next, mp.boundary)
	}
	t := &countReader{r: p}
	cs := source{r: t}
	if at >= 0 {
		cs.known = mp.raw[at:]
	}
	w.entity(child, p.Header, cs, depth+1, mp.childDefault)
	// Read what the child left (NextPart would skip it anyway) to learn
	// where this part ends.
	_, _ = io.Copy(io.Discard, t)
	mp.next = -1
	if at >= 0 {
		mp.next = at + int(t.n)
	}
	return true
}

// outsideParts returns what comes before the first delimiter line and
// after the close delimiter (RFC 2046: "--boundary" with optional
// trailing white space, "--boundary--" for the last).
func outsideParts(raw []byte, boundary string) (preamble, epilogue []byte) {
	dash := []byte("--" + boundary)
	first := -1
	for off := 0; off < len(raw); {
		end := bytes.IndexByte(raw[off:], '\n')
		next := len(raw)
		if end >= 0 {
			next = off + end + 1
		}
		line := bytes.TrimRight(raw[off:next], " \t\r\n")
		if rest, ok := bytes.CutPrefix(line, dash); ok {
			switch {
			case len(rest) == 0 && first < 0:
				first = off
			case string(rest) == "--" && first >= 0:
				return raw[:first], raw[next:]
			}
		}
		off = next
	}
	if first < 0 {
		return raw, nil
	}
	return raw[:first], nil
}

// hasMIMELikeContent reports preamble or epilogue text that looks like
// a hidden part: header fields, delimiter-like lines, or a long run of
// base64. The usual "This is a multi-part message in MIME format." is not.
func hasMIMELikeContent(b []byte) bool {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return false
	}
	lower := bytes.ToLower(t)
	if bytes.Contains(lower, []byte("content-type:")) || bytes.Contains(lower, []byte("content-transfer-encoding:")) ||
		bytes.HasPrefix(t, []byte("--")) || bytes.Contains(t, []byte("\n--")) {
		return true
	}
	return len(t) > 2048
}

// readLeaf decodes a leaf's transfer encoding, bounded by MaxPartBytes.
func (w *walker) readLeaf(n *node, body source, cte string) {
	w.hint = 0
	src := &errReader{r: body.r}
	// Encoded data is at most about 3 times its decoded size (quoted-printable).
	rawLimit := 3*w.lim.MaxPartBytes + 4096
	enc := strings.ToLower(strings.TrimSpace(cte))
	if enc == "base64" {
		w.readBase64Leaf(n, src, body.known, rawLimit)
		return
	}
	raw := w.readRaw(src, body.known, rawLimit)
	if src.err != nil {
		// The stream ended inside this part: every enclosing multipart is
		// cut short too, so the walk ends here.
		w.stopped = true
		n.body, n.size = raw, int64(len(raw))
		if n.problem == "" {
			n.problem, n.detail = policy.ReasonMalformedMIME, "part ends before its boundary"
		}
		return
	}
	for _, b := range w.bounds {
		if bytes.HasPrefix(raw, []byte("--"+b)) || bytes.Contains(raw, []byte("\n--"+b)) {
			boundaryLike(n)
		}
	}
	if int64(len(raw)) > rawLimit {
		_ = drain(src)
		n.problem, n.detail, n.size = policy.ReasonSizeLimit, fmt.Sprintf("part larger than %d bytes", w.lim.MaxPartBytes), int64(len(raw))
		return
	}
	data, err := raw, error(nil)
	switch enc {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		data, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
	default:
		if n.problem == "" {
			n.problem, n.detail = policy.ReasonUnknownEncoding, "Content-Transfer-Encoding "+enc
		}
	}
	n.body, n.size = data, int64(len(data))
	w.leafDone(n, err, enc)
}

// leafDone applies the decoded size limit and records a decoding error.
func (w *walker) leafDone(n *node, err error, enc string) {
	switch {
	case n.size > w.lim.MaxPartBytes:
		n.body = nil
		n.problem, n.detail = policy.ReasonSizeLimit, fmt.Sprintf("part larger than %d bytes", w.lim.MaxPartBytes)
	case err != nil && n.problem == "":
		n.problem, n.detail = policy.ReasonEncodingError, "corrupt "+enc+" encoding"
	}
}

// boundaryLike is the problem of a part in which a line starts like the
// delimiter of an enclosing multipart: parsers that match on the prefix
// split the part there.
func boundaryLike(n *node) {
	if n.problem == "" {
		n.problem, n.detail = policy.ReasonMalformedMIME, "a line starts like the boundary of an enclosing part"
	}
}

// errReader remembers the error of the underlying (raw part) reader, so a
// broken MIME structure is told apart from a broken transfer encoding.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// b64class sorts bytes for decodeBase64: 0 junk, 1 white space, 2 alphabet or '='.
var b64class = func() (t [256]byte) {
	for _, c := range []byte(" \t\r\n") {
		t[c] = 1
	}
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = 2
	}
	return t
}()
