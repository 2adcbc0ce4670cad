package portal

import (
	"sort"

	"mugai/portal/requests"
	"mugai/portal/token"
)

// The views hold only text made safe by shown (or fixed by the portal);
// html/template escapes it again on the page.

type rcptView struct {
	Value string // the address as the message has it: the form's value
	Shown string
}

type messageView struct {
	page
	Token, ID                string
	From, Subject, Received  string
	MessageID, Auth, Expires string
	Rcpts                    []rcptView
	Several                  bool
	Parts                    []partView
}

type partView struct {
	Path, Filename, Kind, Declared, Size string
	SHA256, Action, Rule, Clause, Reason string
	DoneJA, WhyJA, DoneEN, WhyEN         string
	Release                              string
	Encrypted                            bool
	Requests                             []requestView
	Note                                 *note
}

type requestView struct {
	ID, MsgID, Part, Rcpt, Reason string
	Created, Decided              string
	State, StateJA, StateEN       string
	Approver, Comment, Error      string
}

func msgView(m Message) messageView {
	v := messageView{
		ID:        shown(m.ID, maxShown),
		From:      shown(m.From, maxShown),
		Subject:   shown(m.Subject, maxShown),
		Received:  when(m.Received),
		MessageID: shown(m.MessageID, maxShown),
		Auth:      shown(m.Auth, maxShown),
		Expires:   when(m.Expires),
		Several:   len(m.Rcpts) > 1,
	}
	for _, rc := range m.Rcpts {
		v.Rcpts = append(v.Rcpts, rcptView{Value: rc, Shown: shown(rc, maxShown)})
	}
	for _, p := range m.Parts {
		v.Parts = append(v.Parts, partViewOf(p))
	}
	return v
}

func partViewOf(p Part) partView {
	return partView{
		Path:      shown(p.Path, 40),
		Filename:  shown(p.Filename, maxShown),
		Kind:      shown(p.DetectedType, 100),
		Declared:  shown(p.DeclaredType, 100),
		Size:      size(p.Size),
		SHA256:    shown(p.SHA256, 100),
		Action:    shown(p.Action, 40),
		Rule:      shown(p.Rule, 100),
		Clause:    shown(p.Clause, 100),
		Reason:    shown(p.Reason, 100),
		DoneJA:    shown(p.DoneJA, maxReason),
		WhyJA:     shown(p.WhyJA, maxReason),
		DoneEN:    shown(p.DoneEN, maxReason),
		WhyEN:     shown(p.WhyEN, maxReason),
		Release:   p.Release,
		Encrypted: p.Encrypted,
	}
}

// messageView is the staff page of m for the holder of link tok.
func (s *Server) messageView(tok string, m Message, reqs []requests.Request) messageView {
	v := msgView(m)
	v.TitleJA, v.TitleEN = "無害化されたメール", "Sanitized mail"
	v.Token = tok
	v.CSRF = token.MAC(s.cfg.Secret, csrfStaff, tok)
	sortNewest(reqs)
	for i := range v.Parts {
		for _, q := range reqs {
			if q.Part == m.Parts[i].Path {
				v.Parts[i].Requests = append(v.Parts[i].Requests, reqView(q))
			}
		}
	}
	return v
}

// placeNote shows a result beside its part, or at the top.
func (v *messageView) placeNote(res shownResult) {
	if res.n == nil {
		return
	}
	for i := range v.Parts {
		if res.part != "" && v.Parts[i].Path == res.part {
			v.Parts[i].Note = res.n
			return
		}
	}
	v.Note = res.n
}

func reqView(q requests.Request) requestView {
	ja, en := stateText(q.State)
	return requestView{
		ID:       q.ID,
		MsgID:    shown(q.MsgID, maxShown),
		Part:     shown(q.Part, 40),
		Rcpt:     shown(q.Rcpt, maxShown),
		Reason:   shown(q.Reason, maxReason),
		Created:  when(q.Created),
		Decided:  when(q.Decided),
		State:    string(q.State),
		StateJA:  ja,
		StateEN:  en,
		Approver: shown(q.Approver, maxShown),
		Comment:  shown(q.Comment, maxReason),
		Error:    shown(q.Error, maxReason),
	}
}

// stateText names a request's state for people.
func stateText(st requests.State) (ja, en string) {
	switch st {
	case requests.Waiting:
		return "承認待ち", "waiting"
	case requests.Approved:
		return "承認済み（送付中）", "approved (being sent)"
	case requests.Refused:
		return "却下", "refused"
	case requests.Delivered:
		return "送付済み", "delivered"
	case requests.Failed:
		return "送付失敗", "failed"
	}
	return "不明", "unknown"
}

// sortNewest orders requests newest first.
func sortNewest(qs []requests.Request) {
	sort.SliceStable(qs, func(i, j int) bool { return qs[i].Created.After(qs[j].Created) })
}
