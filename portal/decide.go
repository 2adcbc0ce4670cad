package portal

import (
	"errors"
	"net/http"
	"sort"

	"mugai/portal/requests"
)

// How many decided requests the requests page lists.
const recentDecided = 50

var (
	errNoRequest = problem{page: page{TitleJA: "申請が見つかりません", TitleEN: "No such request"},
		TextJA: "その申請はありません（原本の保管期限が過ぎて削除された可能性があります）。何も変更していません。",
		TextEN: "There is no such request (it may have been removed with its original). Nothing was changed.", Back: "/admin/"}
	errDecided = problem{page: page{TitleJA: "判断済みの申請です", TitleEN: "Already decided"},
		TextJA: "この申請はすでに判断されています。一覧を開き直してください。何も変更していません。",
		TextEN: "This request was already decided. Reload the list. Nothing was changed.", Back: "/admin/"}
	errDecision = problem{page: page{TitleJA: "判断が正しくありません", TitleEN: "Bad decision"},
		TextJA: "承認か却下を選んでください。何も変更していません。",
		TextEN: "Choose approve or refuse. Nothing was changed.", Back: "/admin/"}
)

type waitingView struct {
	Req  requestView
	Msg  messageView
	Part partView
	Kept bool // the original and its part are still kept
}

type requestsView struct {
	page
	Waiting []waitingView
	Decided []requestView
}

// Result flags of a decision's redirect (?r=...).
var decisionNotes = map[string]*note{
	"approved": {"ok", "承認し、原本を申請者に送りました。", "Approved: the original was sent to the requester."},
	"refused":  {"ok", "却下しました。申請者に通知しました。", "Refused: the requester was told."},
	"failed":   {"err", "承認しましたが、原本を送れませんでした。下の一覧でエラーを確認してください。", "Approved, but the original could not be sent: see the error below."},
}

// adminRequests lists waiting requests, newest first, each with what the
// approver needs to decide, then the recently decided ones.
func (s *Server) adminRequests(w http.ResponseWriter, r *http.Request, a approver) {
	v := requestsView{page: a.page("申請一覧", "Release requests")}
	v.Note = decisionNotes[r.URL.Query().Get("r")]
	for _, q := range s.store.List(requests.Waiting) {
		v.Waiting = append(v.Waiting, s.waiting(q))
	}
	decided := s.store.List(requests.Approved, requests.Refused, requests.Delivered, requests.Failed)
	sort.SliceStable(decided, func(i, j int) bool { return decided[i].Decided.After(decided[j].Decided) })
	for i, q := range decided {
		if i == recentDecided {
			break
		}
		v.Decided = append(v.Decided, reqView(q))
	}
	s.render(w, http.StatusOK, "requests", v)
}

// waiting joins a waiting request with its message and part.
func (s *Server) waiting(q requests.Request) waitingView {
	wv := waitingView{Req: reqView(q)}
	m, err := s.b.Message(q.MsgID)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.cfg.Log.Error("portal: message", "msg_id", q.MsgID, "err", err)
		}
		wv.Part.Path, wv.Part.Filename = wv.Req.Part, "?"
		return wv
	}
	wv.Msg = msgView(m)
	if p, ok := findPart(m, q.Part); ok {
		wv.Part, wv.Kept = partViewOf(p), true
	} else {
		wv.Part.Path, wv.Part.Filename = wv.Req.Part, "?"
	}
	return wv
}

// adminDecide approves or refuses one waiting request.
func (s *Server) adminDecide(w http.ResponseWriter, r *http.Request, a approver) {
	f, ok := s.checkCSRF(w, r, a.csrf)
	if !ok {
		return
	}
	defer f.zero()
	approve := false
	switch f.get("decision") {
	case "approve":
		approve = true
	case "refuse":
	default:
		s.fail(w, http.StatusBadRequest, errDecision)
		return
	}
	flag, err := s.decide(a.name, r.PathValue("id"), approve, oneLine(f.get("comment")))
	switch {
	case errors.Is(err, errGone):
		s.fail(w, http.StatusNotFound, errNoRequest)
	case errors.Is(err, errNotWaiting):
		s.fail(w, http.StatusConflict, errDecided)
	case err != nil:
		s.fail(w, http.StatusInternalServerError, errInternal)
	default:
		http.Redirect(w, r, "/admin/?r="+flag, http.StatusSeeOther)
	}
}

var (
	errGone       = errors.New("portal: no such request")
	errNotWaiting = errors.New("portal: request not waiting")
)

// decide records an approver's decision on request id. The move out of
// waiting happens under s.mu, so two approvers cannot both decide; an
// approval then releases through the backend and records the outcome.
func (s *Server) decide(name, id string, approve bool, comment string) (string, error) {
	s.mu.Lock()
	q, err := s.store.Update(id, func(q *requests.Request) error {
		if q.State != requests.Waiting {
			return errNotWaiting
		}
		q.Approver, q.Comment, q.Decided = name, comment, s.cfg.Now()
		q.State = requests.Refused
		if approve {
			q.State = requests.Approved
		}
		return nil
	})
	s.mu.Unlock()
	switch {
	case errors.Is(err, requests.ErrNotFound):
		return "", errGone
	case errors.Is(err, errNotWaiting):
		return "", errNotWaiting
	case err != nil:
		s.cfg.Log.Error("portal: store request", "request", id, "err", err)
		return "", err
	}
	kind := EventRefused
	if approve {
		kind = EventApproved
	}
	s.audit(Event{Kind: kind, Actor: name, ID: q.MsgID, Part: q.Part, Request: q.ID, Rcpt: q.Rcpt, Detail: comment})
	flag := "refused"
	if approve {
		spool, err := s.b.Release(q.MsgID, q.Part, q.Rcpt, name, releaseReason(q.Reason, comment))
		s.finish(&q, spool, err)
		flag = "approved"
		if err != nil {
			flag = "failed"
		}
	}
	s.notifyDecided(q)
	return flag, nil
}

// releaseReason is what the release audits: the requester's reason and
// the approver's comment.
func releaseReason(reason, comment string) string {
	if comment == "" {
		return reason
	}
	return reason + " / " + comment
}
