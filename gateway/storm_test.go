package gateway

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"
)

var mugaiIDHeader = regexp.MustCompile(`(?m)^X-Mugai-Id: *(\S+)\r?$`)

// hopCounts counts the messages the next hop received per gateway id.
func hopCounts(t *testing.T, hop *nextHop) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, m := range hop.messages() {
		sm := mugaiIDHeader.FindSubmatch(m.data)
		if sm == nil {
			t.Fatalf("relayed message without X-Mugai-Id:\n%s", m.data)
		}
		n[string(sm[1])]++
	}
	return n
}

// TestRescanStormDeliversOnce: admin commands telling the gateway to
// rescan (flush through the control socket, rescan, SIGUSR1's Rescan) as
// fast as they can while sessions commit and workers finish messages: the
// next hop gets every message exactly once, and none is tried after it
// finished. (A rescan used to re-add entries a session had just committed
// or that finished meanwhile: 95 duplicates with 800 signals over 1,500.)
func TestRescanStormDeliversOnce(t *testing.T) {
	const senders, perSender = 8, 50
	hop := startNextHop(t)
	// One deferral in ten: entries go back and forth between in flight
	// and waiting, with a meta written, while the storm goes on.
	hop.dataReply = func(n int) error {
		if n%10 == 3 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "later"}
		}
		return nil
	}
	tg := startGateway(t, func(c *Config) {
		c.Deliver.Relay = hop.addr
		c.Deliver.Workers = 8
	})
	ctl, err := ListenControl(tg.cfg.Spool)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	go tg.g.ServeControl(ctl)

	var storm sync.WaitGroup
	var stop atomic.Bool
	var requests atomic.Int64
	for w := range 3 {
		storm.Add(1)
		go func() {
			defer storm.Done()
			for i := 0; !stop.Load(); i++ {
				var err error
				switch w {
				case 0:
					_, err = AskGateway(tg.cfg.Spool, "flush")
				case 1:
					_, err = AskGateway(tg.cfg.Spool, "rescan")
				default:
					err = tg.g.Rescan()
				}
				if err != nil {
					t.Errorf("storm request: %v", err)
					return
				}
				requests.Add(1)
			}
		}()
	}
	var sent sync.WaitGroup
	ids := make(chan string, senders*perSender)
	for s := range senders {
		sent.Add(1)
		go func() {
			defer sent.Done()
			for i := range perSender {
				reply, err := send(tg.addr, "a@example.jp", []string{"b@city.example.lg.jp"},
					fmt.Sprintf("Subject: storm %d/%d\r\n\r\nbody %d/%d\r\n", s, i, s, i))
				if err != nil {
					t.Errorf("send: %v", err)
					return
				}
				_, id, _ := strings.Cut(reply, "queued as ")
				ids <- id
			}
		}()
	}
	sent.Wait()
	close(ids)
	want := map[string]bool{}
	for id := range ids {
		want[id] = true
	}
	waitFor(t, "every message at the next hop", func() bool { return len(hopCounts(t, hop)) >= len(want) })
	stop.Store(true)
	storm.Wait()
	// Whatever a rescan scheduled twice would still be waiting or in
	// flight: wait for the schedule and the spool to empty, then count.
	waitFor(t, "an empty queue", func() bool {
		w, _, _ := tg.g.spool.List()
		return tg.g.delivery.Queued() == 0 && len(w) == 0
	})
	counts := hopCounts(t, hop)
	dups := 0
	for id, n := range counts {
		if !want[id] {
			t.Errorf("the next hop got %s, which was never sent", id)
		}
		if n != 1 {
			dups += n - 1
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("%d of %d messages delivered", len(counts), len(want))
	}
	delivered := 0
	for _, r := range auditEvents(t, tg.cfg.Audit, "") {
		if r["event"] == "delivered" {
			delivered++
		}
	}
	if delivered != len(want) {
		t.Errorf("%d delivered records for %d messages", delivered, len(want))
	}
	t.Logf("%d messages, %d rescan requests during the run, %d duplicates", len(want), requests.Load(), dups)
}
