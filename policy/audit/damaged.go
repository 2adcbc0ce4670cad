package audit

// EventDamaged says a spool entry failed its integrity check (or lost its
// entry line) and was moved aside into the spool's bad/ directory; the
// detail says why and what became of the message (rebuilt from its kept
// original, or left in bad/ for an admin).
const EventDamaged = "damaged"

// DamagedOperator is the operator field of a damaged record: the gateway
// itself found it, no admin acted.
const DamagedOperator = "mugai"

// Damaged records a damaged spool entry: id is the entry's id, detail
// why it was judged damaged and its outcome, on one line.
func (l *Log) Damaged(id, detail string) error {
	return l.write([]any{&AdminRecord{Header: Header{Event: EventDamaged, ID: id}, Operator: DamagedOperator, Detail: detail}})
}
