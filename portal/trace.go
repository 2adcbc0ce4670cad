package portal

import (
	"errors"
	"net/http"
	"net/url"
	"time"
)

// traceLimit bounds one search's results.
const traceLimit = 200

// traceQuery is the search form as typed, shown back in the form.
type traceQuery struct {
	From, Rcpt, Subject, MessageID, Since, Until string
}

type traceView struct {
	page
	Q        traceQuery
	Searched bool
	More     bool
	Results  []messageView
}

type adminMessageView struct {
	page
	M        messageView
	Requests []requestView
}

var noteBadDate = &note{"err", "日付は YYYY-MM-DD の形で入力してください。", "Dates are YYYY-MM-DD."}

// adminTrace searches the kept originals: the search staff lacked when
// held mail took a week to find.
func (s *Server) adminTrace(w http.ResponseWriter, r *http.Request, a approver) {
	v := traceView{page: a.page("メール追跡", "Message trace")}
	q := r.URL.Query()
	v.Q = traceQuery{
		From: field(q, "from"), Rcpt: field(q, "rcpt"), Subject: field(q, "subject"),
		MessageID: field(q, "message_id"), Since: field(q, "since"), Until: field(q, "until"),
	}
	if v.Q == (traceQuery{}) {
		s.render(w, http.StatusOK, "trace", v)
		return
	}
	search, ok := v.Q.search()
	if !ok {
		v.Note = noteBadDate
		s.render(w, http.StatusBadRequest, "trace", v)
		return
	}
	found, err := s.b.Search(search)
	if err != nil {
		s.cfg.Log.Error("portal: search", "err", err)
		s.fail(w, http.StatusInternalServerError, errInternal)
		return
	}
	v.Searched = true
	if len(found) > traceLimit {
		found, v.More = found[:traceLimit], true
	}
	for _, m := range found {
		v.Results = append(v.Results, msgView(m))
	}
	s.render(w, http.StatusOK, "trace", v)
}

// field is a query value, one line and bounded.
func field(q url.Values, name string) string { return truncate(oneLine(q.Get(name)), maxShown) }

// search turns the form into a Search; dates are days in the server's
// zone, until inclusive. False for a date that does not parse.
func (t traceQuery) search() (Search, bool) {
	s := Search{From: t.From, Rcpt: t.Rcpt, Subject: t.Subject, MessageID: t.MessageID, Limit: traceLimit + 1}
	var err error
	if t.Since != "" {
		if s.Since, err = time.ParseInLocation(time.DateOnly, t.Since, time.Local); err != nil {
			return s, false
		}
	}
	if t.Until != "" {
		day, err := time.ParseInLocation(time.DateOnly, t.Until, time.Local)
		if err != nil {
			return s, false
		}
		s.Until = day.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return s, true
}

// adminMessage shows one kept original as `mugai originals show` does:
// its envelope, headers and changed parts, never a body.
func (s *Server) adminMessage(w http.ResponseWriter, r *http.Request, a approver) {
	m, err := s.b.Message(r.PathValue("id"))
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.cfg.Log.Error("portal: message", "msg_id", r.PathValue("id"), "err", err)
		}
		s.notFoundOr(w, r, err)
		return
	}
	reqs := s.store.ForMessage(m.ID)
	sortNewest(reqs)
	v := adminMessageView{page: a.page("メールの詳細", "Message"), M: msgView(m)}
	for _, q := range reqs {
		v.Requests = append(v.Requests, reqView(q))
	}
	s.render(w, http.StatusOK, "admin_message", v)
}
