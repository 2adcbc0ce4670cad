//go:build interop

package interop

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestInteropRecipients: the LGWAN Postfix knows its users (a virtual
// mailbox table holding staff only: any other address gets its 550 5.1.1
// "User unknown in virtual mailbox table"), and mugai verifies
// recipients against it (accept.verify_recipients). Mail for an unknown
// user is refused at RCPT, so mugai never takes it and never bounces it:
// no DSN (backscatter) from mugai.
func TestInteropRecipients(t *testing.T) {
	w := newWorldWith(t, map[string]string{
		"virtual_mailbox_maps": "inline:{ staff@city.example=staff/ }",
		// Postfix's default restrictions: smtpd_reject_unlisted_recipient
		// refuses what the mailbox table does not hold.
		"smtpd_recipient_restrictions": "",
	}, "  verify_recipients: true\n")
	header := func(id, subject string) string {
		return "From: <sender@example.jp>\r\nTo: staff@city.example\r\nSubject: " + subject + "\r\nDate: Tue, 1 Dec 2026 09:00:00 +0900\r\n" +
			"Message-ID: " + id + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	}

	t.Run("known-user-delivered", func(t *testing.T) {
		id := newMsgID("known")
		w.send(t, "known", []byte(header(id, "known")+"\r\n在籍者あての確認です。\r\n"))
		w.delivered(t, id, 30*time.Second)
	})

	t.Run("unknown-user-refused-at-rcpt", func(t *testing.T) {
		id := newMsgID("ghost")
		w.sendTo(t, "ghost@city.example", "ghost", []byte(header(id, "ghost")+"\r\n存在しない宛先です。\r\n"))
		// The Internet-side Postfix took the message and was refused at
		// RCPT by mugai: the bounce is its own (discarded here).
		deadline := time.Now().Add(30 * time.Second)
		for {
			log := w.internet.Log(200)
			if strings.Contains(log, "to=<ghost@city.example>") && strings.Contains(log, "said: 550 5.1.1 Recipient address rejected: user unknown at the internal mail server (in reply to RCPT TO command)") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the Internet-side Postfix did not get mugai's 550 at RCPT:\n%s\nmugai audit:\n%s", w.internet.Log(20), w.auditTail(10))
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(2 * time.Second) // what mugai would do after a mistaken 250 (deliver, bounce, DSN) has had its time
		rejected := 0
		for _, r := range w.records(t) {
			switch {
			case r.Event == "rejected" && strings.HasPrefix(r.Reply, "550 5.1.1 "):
				rejected++
			case r.MessageID == id:
				t.Errorf("mugai kept the message for the unknown user: %+v", r)
			case r.Event == "bounced" || r.Event == "received" && strings.HasSuffix(r.MessageID, "@mugai.test>"):
				t.Errorf("mugai bounced or sent a DSN: %+v", r)
			}
		}
		if rejected == 0 {
			t.Errorf("no 550 5.1.1 rejection in mugai's audit log:\n%s", w.auditTail(10))
		}
	})

	// The deployment the README recommends: the Internet-side Postfix
	// verifies too (reject_unverified_recipient), through mugai, so the
	// sending MTA gets the 550 in its own session and nobody bounces.
	t.Run("internet-side-verifies", func(t *testing.T) {
		// unverified_recipient_reject_code is 450 by default: Postfix
		// keeps the 550 until told that the next hop's answer is final.
		if err := w.internet.Postconf("smtpd_recipient_restrictions=reject_unverified_recipient, permit_mynetworks, reject_unauth_destination",
			"unverified_recipient_reject_code=550"); err != nil {
			t.Fatal(err)
		}
		defer w.internet.Postconf("smtpd_recipient_restrictions=permit_mynetworks, reject_unauth_destination")
		out := rcptThrough(t, w, "ghost2@city.example")
		if !strings.Contains(out, "<** 550 5.1.1 <ghost2@city.example>") {
			t.Fatalf("an unknown user through a verifying Internet-side Postfix:\n%s\ninternet log:\n%s", out, w.internet.Log(20))
		}
		t.Logf("the sending MTA got: %s", out[strings.Index(out, "<** 550"):])
		if out := rcptThrough(t, w, "staff@city.example"); !strings.Contains(out, "<-  RCPT TO:<staff@city.example>\n <-  250") &&
			!strings.Contains(out, " -> RCPT TO:<staff@city.example>\n<-  250") {
			t.Errorf("a known user through a verifying Internet-side Postfix:\n%s", out)
		}
	})
}

// rcptThrough asks the Internet-side Postfix to take rcpt (swaks, up to
// RCPT), again while it answers 450 (verification in progress), and
// returns the last dialogue.
func rcptThrough(t *testing.T, w *world, rcpt string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := exec.Command("swaks", "--server", "127.0.0.1", "--port", strconv.Itoa(w.internet.Port), "--helo", "client.example",
			"--from", "sender@example.jp", "--to", rcpt, "--quit-after", "RCPT").CombinedOutput()
		if !strings.Contains(string(b), "<** 450") || time.Now().After(deadline) {
			return string(b)
		}
		time.Sleep(time.Second)
	}
}
