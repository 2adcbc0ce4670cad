package portal

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"mugai/portal/requests"
	"mugai/portal/token"
)

// Purposes of the keyed CSRF tags (token.MAC), one per kind of binding.
const (
	csrfStaff = "csrf-staff" // bound to the link token
	csrfAdmin = "csrf-admin" // bound to the session
	csrfProxy = "csrf-proxy" // bound to the proxy's user and the pre-login cookie
	csrfLogin = "csrf-login" // bound to the pre-login cookie
)

// Staff error pages.
var (
	errNoPart = problem{page: page{TitleJA: "該当する部分がありません", TitleEN: "No such part"},
		TextJA: "このメールにその部分はありません。ページを開き直してください。何も変更していません。",
		TextEN: "This mail has no such part. Reload the page. Nothing was changed."}
	errNever = problem{page: page{TitleJA: "申請できません", TitleEN: "Cannot be requested"},
		TextJA: "このファイルは職員からは申請できません。必要な場合は、ゲートウェイ ID を添えてメール管理者に依頼してください。何も変更していません。",
		TextEN: "Staff cannot request this file. If you need it, ask the mail administrator, quoting the gateway id. Nothing was changed."}
	errBadRcpt = problem{page: page{TitleJA: "宛先が正しくありません", TitleEN: "Wrong recipient"},
		TextJA: "原本を受け取れるのは、このメールの元の宛先だけです。一覧から選んでください。何も変更していません。",
		TextEN: "Only the mail's original recipients can receive it. Choose one from the list. Nothing was changed."}
	errNoReason = problem{page: page{TitleJA: "理由を書いてください", TitleEN: "A reason is required"},
		TextJA: "申請には理由が必要です。何も変更していません。",
		TextEN: "A request needs a reason. Nothing was changed."}
	errNotLocked = problem{page: page{TitleJA: "開封できません", TitleEN: "Nothing to unlock"},
		TextJA: "この部分はパスワード付き ZIP ではありません。何も変更していません。",
		TextEN: "This part is not a password-protected ZIP. Nothing was changed."}
)

// linkMessage returns the message a link token names. A wrong, tampered
// or expired token, or an original no longer kept, is not found; any
// other error is logged and reported as such.
func (s *Server) linkMessage(tok string) (Message, error) {
	id, _, ok := token.Verify(s.cfg.Secret, tok, s.cfg.Now())
	if !ok {
		return Message{}, ErrNotFound
	}
	m, err := s.b.Message(id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.cfg.Log.Error("portal: message", "msg_id", id, "err", err)
	}
	return m, err
}

// staffPage shows the message a link names.
func (s *Server) staffPage(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	m, err := s.linkMessage(tok)
	if err != nil {
		s.notFoundOr(w, r, err)
		return
	}
	v := s.messageView(tok, m, s.store.ForMessage(m.ID))
	v.placeNote(result(r.URL.Query(), m))
	s.render(w, http.StatusOK, "message", v)
}

// notFoundOr writes the 404 page for ErrNotFound, the 500 page otherwise.
func (s *Server) notFoundOr(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrNotFound) {
		s.notFound(w, r)
		return
	}
	s.fail(w, http.StatusInternalServerError, errInternal)
}

// staffPost is a staff form checked up to what every form shares: the
// link, the body, the CSRF tag, the part and the recipient.
type staffPost struct {
	tok  string
	m    Message
	f    *form
	part Part
	rcpt string
}

// readStaffPost checks a staff POST; on false it has written the answer.
// The caller zeroes p.f.
func (s *Server) readStaffPost(w http.ResponseWriter, r *http.Request) (p staffPost, ok bool) {
	p.tok = r.PathValue("token")
	if _, _, valid := token.Verify(s.cfg.Secret, p.tok, s.cfg.Now()); !valid {
		s.notFound(w, r)
		return p, false
	}
	f, err := s.readForm(w, r)
	if err != nil {
		return p, false
	}
	p.f = f
	if !token.Equal(f.get("csrf"), token.MAC(s.cfg.Secret, csrfStaff, p.tok)) {
		s.fail(w, http.StatusForbidden, errCSRF)
		return p, false
	}
	if p.m, err = s.linkMessage(p.tok); err != nil {
		s.notFoundOr(w, r, err)
		return p, false
	}
	var found bool
	if p.part, found = findPart(p.m, f.get("part")); !found {
		s.fail(w, http.StatusBadRequest, errNoPart)
		return p, false
	}
	return p, true
}

// pickRcpt returns the recipient a form names: the field must be one of
// the message's recipients; with one recipient the field may be absent.
func pickRcpt(m Message, f *form) (string, bool) {
	if !f.has("rcpt") && len(m.Rcpts) == 1 {
		return m.Rcpts[0], true
	}
	want := f.get("rcpt")
	for _, rc := range m.Rcpts {
		if rc == want {
			return rc, true
		}
	}
	return "", false
}

// readForm reads a POST body, writing the error page on failure.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (*form, error) {
	f, err := readForm(w, r)
	switch {
	case errors.Is(err, errBodyTooLarge):
		s.fail(w, http.StatusRequestEntityTooLarge, errTooLarge)
	case err != nil:
		s.fail(w, http.StatusBadRequest, errBadForm)
	}
	return f, err
}

func findPart(m Message, path string) (Part, bool) {
	for _, p := range m.Parts {
		if p.Path == path && path != "" {
			return p, true
		}
	}
	return Part{}, false
}

// staffRequest asks for a part's original.
func (s *Server) staffRequest(w http.ResponseWriter, r *http.Request) {
	p, ok := s.readStaffPost(w, r)
	defer p.f.zero()
	if !ok {
		return
	}
	if p.part.Release != ReleaseApproval && p.part.Release != ReleaseSelf {
		s.fail(w, http.StatusForbidden, errNever)
		return
	}
	rcpt, ok := pickRcpt(p.m, p.f)
	if !ok {
		s.fail(w, http.StatusBadRequest, errBadRcpt)
		return
	}
	reason := oneLine(p.f.get("reason"))
	if reason == "" {
		s.fail(w, http.StatusBadRequest, errNoReason)
		return
	}
	flag := s.request(p.m, p.part, rcpt, reason)
	s.back(w, r, p.tok, flag, p.part.Path, rcptIndex(p.m, rcpt), -1)
}

// request stores a request and, for release: self, releases at once.
// It returns the result flag for the page. s.mu makes the duplicate check
// and the store one step, and keeps a self-release's request from being
// decided by an approver while it is released.
func (s *Server) request(m Message, p Part, rcpt, reason string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending(m.ID, p.Path, rcpt) {
		return resDuplicate
	}
	q, err := s.store.Add(requests.Request{MsgID: m.ID, Part: p.Path, Rcpt: rcpt, Reason: reason, Expires: m.Expires})
	if err != nil {
		s.cfg.Log.Error("portal: store request", "msg_id", m.ID, "part", p.Path, "err", err)
		return resFailed
	}
	actor := rcpt // the link's holder, named by the recipient it asks for (as the audit log names it everywhere)
	s.audit(Event{Kind: EventRequested, Actor: actor, ID: m.ID, Part: p.Path, Request: q.ID, Rcpt: rcpt, Detail: reason})
	if p.Release == ReleaseApproval {
		s.notifyWaiting(m, p, q)
		return resRequested
	}
	spool, err := s.b.Release(m.ID, p.Path, rcpt, actor, reason)
	s.finish(&q, spool, err)
	if err != nil {
		return resFailed
	}
	return resReleased
}

// pending reports whether a request for the part by rcpt is waiting,
// approved (being released) or delivered: asking again changes nothing.
func (s *Server) pending(id, part, rcpt string) bool {
	for _, q := range s.store.ForMessage(id) {
		if q.Part == part && q.Rcpt == rcpt &&
			(q.State == requests.Waiting || q.State == requests.Approved || q.State == requests.Delivered) {
			return true
		}
	}
	return false
}

// finish records a release's outcome on q: delivered with its spool id,
// or failed with the error kept for the approvers.
func (s *Server) finish(q *requests.Request, spool string, err error) {
	if err != nil {
		s.cfg.Log.Error("portal: release", "msg_id", q.MsgID, "part", q.Part, "request", q.ID, "err", err)
	}
	next, uerr := s.store.Update(q.ID, func(r *requests.Request) error {
		if err != nil {
			r.State, r.Error = requests.Failed, err.Error()
		} else {
			r.State, r.SpoolID = requests.Delivered, spool
		}
		return nil
	})
	if uerr != nil {
		s.cfg.Log.Error("portal: store request", "msg_id", q.MsgID, "part", q.Part, "request", q.ID, "err", uerr)
		return
	}
	*q = next
}

// audit records ev, logging a failure (the step itself has happened).
func (s *Server) audit(ev Event) {
	if err := s.b.Audit(ev); err != nil {
		s.cfg.Log.Error("portal: audit", "kind", ev.Kind, "msg_id", ev.ID, "part", ev.Part, "err", err)
	}
}

// back answers a staff POST with 303 to the message page, the result in
// a flag from a fixed set: never a target taken from the request.
func (s *Server) back(w http.ResponseWriter, r *http.Request, tok, flag, part string, rcpt, left int) {
	q := url.Values{"r": {flag}, "p": {part}}
	if rcpt >= 0 {
		q.Set("to", strconv.Itoa(rcpt))
	}
	if left >= 0 {
		q.Set("left", strconv.Itoa(left))
	}
	http.Redirect(w, r, "/m/"+url.PathEscape(tok)+"?"+q.Encode(), http.StatusSeeOther)
}

func rcptIndex(m Message, rcpt string) int {
	for i, rc := range m.Rcpts {
		if rc == rcpt {
			return i
		}
	}
	return -1
}
