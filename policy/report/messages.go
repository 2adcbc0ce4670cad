package report

import "strconv"

// kind is where a message mugai delivered came from: what decides which
// count its deliveries go to.
type kind uint8

const (
	kindReceived kind = iota // received from the Internet side and sanitized (the default)
	kindRelease              // an original or a part of it, released by an admin or an approver
	kindOwn                  // written by mugai itself: a DSN, a portal notice
	kinds
)

// Flow counts the delivery records of messages of one kind: per
// recipient, and deferrals per recipient and attempt.
type Flow struct {
	Delivered, Deferred, Bounced int
}

func (f *Flow) count(event string) {
	switch event {
	case "delivered":
		f.Delivered++
	case "deferred":
		f.Deferred++
	case "bounced":
		f.Bounced++
	}
}

func (f *Flow) plus(g Flow) {
	f.Delivered += g.Delivered
	f.Deferred += g.Deferred
	f.Bounced += g.Bounced
}

// flow returns the tally a delivery of message id goes to: its kind's,
// or a pending one when the record saying what id is has not been read
// yet (it may be in a log added later).
func (r *Report) flow(id string) *Flow {
	if m := r.ids[id]; m != nil {
		return &r.flows[m.kind]
	}
	f := r.pending[id]
	if f == nil {
		f = &Flow{}
		r.pending[id] = f
	}
	return f
}

// Flows returns the deliveries by kind: of received mail, of releases,
// of mugai's own mail. A delivery of a message no log read says anything
// about counts as received mail.
func (r *Report) Flows() (received, release, own Flow) {
	fl := r.flows
	for id, f := range r.pending {
		k := kindReceived
		if m := r.ids[id]; m != nil {
			k = m.kind
		}
		fl[k].plus(*f)
	}
	return fl[kindReceived], fl[kindRelease], fl[kindOwn]
}

// Line is one count of the messages section with what it means.
type Line struct {
	Key     string // stable, for CSV and scripts
	Label   string // Japanese / English
	N       int
	Meaning string // one line, Japanese / English
}

// Lines are the message counts, each saying what it counts: a release is
// delivered too, but never in "delivered".
func (r *Report) Lines() []Line {
	in, rel, own := r.Flows()
	released := 0
	for _, n := range r.Releases {
		released += n
	}
	return []Line{
		{"received", "受信 / received", r.Received, "インターネット側から受け付けたメールの通数 / messages accepted from the Internet side"},
		{"rejected", "拒否 / rejected", r.Rejected, "SMTP の段階で断った送信（何も受け取っていない） / transactions refused during SMTP (nothing accepted)"},
		{"tempfail", "一時エラー / temporary failures", r.Tempfails.Total(), "mugai 側の障害（保存先・空き容量・時間切れなど）で 4xx を返し再送を求めた送信 / transactions answered 4xx for a local failure (storage, free space, time limit...); the sender retries"},
		{"delivered", "配送 / delivered", in.Delivered, "無害化したメールを LGWAN 側に渡した数（宛先ごと） / sanitized mail handed to the LGWAN side, per recipient"},
		{"deferred", "再試行 / deferred", in.Deferred, "一時的に渡せず後で再送した数（宛先・試行ごと） / sanitized mail retried later, per recipient and attempt"},
		{"bounced", "不達 / bounced", in.Bounced, "渡せなかった宛先の数（差出人へ不達通知） / recipients never reached (the sender is told)"},
		{"released", "原本の提供 / releases", released, "管理者・承認者が原本またはその一部を提供した件数 / originals or parts released by an admin or an approver"},
		{"release_delivered", "提供の配送 / release deliveries", rel.Delivered, "提供したメールを渡した数（宛先ごと、「配送」には含まない） / released mail handed over, per recipient (not in delivered)"},
		{"release_deferred", "提供の再試行 / release deferrals", rel.Deferred, "提供したメールの再送（宛先・試行ごと） / released mail retried later, per recipient and attempt"},
		{"release_bounced", "提供の不達 / releases bounced", rel.Bounced, "提供したメールを渡せなかった宛先（spool/failed/ に保管） / released mail never delivered, kept in spool/failed/"},
		{"own", "mugai のメール / mugai's own mail", r.Own, "mugai 自身が書いたメール（不達通知・ポータルの通知）の通数 / messages mugai wrote itself (DSNs, portal notices)"},
		{"own_delivered", "その配送 / own mail delivered", own.Delivered, "mugai 自身のメールを渡した数（宛先ごと） / mugai's own mail handed over, per recipient"},
		{"own_bounced", "その不達 / own mail bounced", own.Bounced, "mugai 自身のメールを渡せなかった宛先 / mugai's own mail never delivered"},
		{"purges", "原本の削除 / purges", r.Purges, "保存期間を過ぎた原本を削除した回数 / runs that removed originals past their retention"},
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
