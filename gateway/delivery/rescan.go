package delivery

import "mugai/gateway/queue"

// Rescan brings the schedule in line with the spool after an admin changed
// it (mugai queue requeue/delete/flush, SIGUSR1): entries that appeared
// are added, entries that vanished are dropped, and with flush everything
// waiting is due now. It returns how many entries it added and dropped.
//
// The directory is read without d.mu, so by the time mu is held what it
// read may be stale both ways: an entry it saw may have finished since
// (its file is gone: not added), an entry a session committed after the
// read may be waiting already (its file is there: not dropped), and one it
// saw may be known already (a session's Add came first, or it is in
// flight: not added twice). schedule1 checks all three under mu.
func (d *Runner) Rescan(flush bool) (added, dropped int, err error) {
	waiting, _, err := d.deps.Spool.List()
	if err != nil {
		return 0, 0, err
	}
	now := d.deps.Now()
	present := map[string]*queue.Entry{}
	for _, e := range waiting {
		present[e.ID] = e
	}
	d.mu.Lock()
	dropped = d.dropGone(present)
	var due []string
	for id, e := range present {
		switch {
		case d.waiting.get(id) != nil:
			if flush {
				due = append(due, id)
			}
		case d.flyIDs[id]:
			// Its attempt is under way; if it ends deferred, the
			// retry is now, not at the backoff it computed.
			if flush {
				d.flush[id] = true
			}
		default:
			if flush {
				e.NextAttempt = now
			}
			if d.schedule1(e, false) {
				added++
			}
		}
	}
	d.waiting.dueAt(due, now) // once for all: O(n) for a flush of everything
	d.mu.Unlock()
	d.poke()
	return added, dropped, nil
}

// dropGone takes out of the schedule the waiting entries that are neither
// in present (what the rescan read) nor in the spool now, and returns how
// many; d.mu is held.
func (d *Runner) dropGone(present map[string]*queue.Entry) int {
	var gone []string
	d.waiting.each(func(e *queue.Entry) {
		if present[e.ID] == nil && !d.deps.Spool.Has(e.ID) {
			gone = append(gone, e.ID)
		}
	})
	for _, id := range gone {
		d.waiting.remove(id)
	}
	return len(gone)
}

// AddFromSpool schedules the entry id that an admin command put in the
// spool (requeue, release), read from its files; false when it is not in
// the spool or is known already.
func (d *Runner) AddFromSpool(id string) (bool, error) {
	e, err := d.deps.Spool.Entry(id)
	if err != nil {
		return false, err
	}
	return d.Add(e), nil
}
