package courier

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// SMTP relays to one next-hop MTA.
type SMTP struct {
	Addr     string        // host:port
	Hostname string        // our EHLO name
	Timeout  time.Duration // whole transaction
	// TLS, when set, is used for STARTTLS. With RequireTLS a next hop
	// that does not offer it, or whose certificate does not verify, gets
	// nothing (a temporary failure: retried, then bounced at lifetime).
	TLS        *tls.Config
	RequireTLS bool
	// Dial, when set, replaces the network dialer (tests).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Reuse configures the connection cache (pool.go); the zero value
	// keeps up to DefaultMaxIdle connections with Postfix's limits.
	Reuse Reuse

	pool pool
}

// Name implements Courier.
func (s *SMTP) Name() string { return "relay " + s.Addr }

// Deliver implements Courier. One transaction carries every recipient. The
// commit point is the next hop's reply to the end of DATA: once it said
// 250, nothing that fails afterwards (QUIT, RSET on the kept connection)
// can make us send again.
func (s *SMTP) Deliver(ctx context.Context, from string, rcpts []string, msg []byte) []Result {
	results := make([]Result, len(rcpts))
	for i, r := range rcpts {
		results[i].Rcpt = r
	}
	if err := checkAddress(from, true); err != nil {
		return failRest(results, &Error{Permanent: true, Code: 553, Enhanced: "5.1.7", Msg: "not sent: " + err.Error()})
	}
	valid := checkRecipients(results)
	if len(valid) == 0 {
		return results
	}
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	if err := s.transact(ctx, from, valid, msg, results); err != nil {
		return failRest(results, err)
	}
	return results
}

// transact runs the transaction on a kept connection when one is idle and
// answers RSET, else on a new one. A kept connection that fails before the
// next hop accepted MAIL (it closed the connection while idle, say) is
// given up for a new connection, once, within the attempt: nothing of the
// message was sent on it. Once MAIL was accepted there is no second try.
func (s *SMTP) transact(ctx context.Context, from string, valid []int, msg []byte, results []Result) error {
	if pc := s.take(ctx); pc != nil {
		p, err := send(pc.c, from, valid, msg, results)
		s.release(pc, err == nil && p == clean)
		if err == nil || p != notMailed {
			return err
		}
	}
	pc, err := s.open(ctx)
	if err != nil {
		return err
	}
	p, err := send(pc.c, from, valid, msg, results)
	s.release(pc, err == nil && p == clean)
	return err
}

// failRest gives err to every recipient that has no error yet.
func failRest(results []Result, err error) []Result {
	for i := range results {
		if results[i].Err == nil {
			results[i].Err, results[i].Reply = err, err.Error()
		}
	}
	return results
}

// checkRecipients fails the recipients whose address is not safe to send
// and returns the indexes of the others.
func checkRecipients(results []Result) []int {
	var valid []int // indexes of recipients safe to send
	for i := range results {
		if err := checkAddress(results[i].Rcpt, false); err != nil {
			results[i].Err = &Error{Permanent: true, Code: 553, Enhanced: "5.1.3", Msg: "not sent: " + err.Error()}
			results[i].Reply = results[i].Err.Error()
			continue
		}
		valid = append(valid, i)
	}
	return valid
}

// progress is how far a transaction went.
type progress int

const (
	notMailed progress = iota // MAIL not accepted: nothing of the message sent
	refused                   // some reply was not the one expected
	clean                     // every reply as expected, 250 at the end of DATA
)

// send runs the transaction for the recipients at the indexes valid and
// fills in their results. A recipient the next hop refuses gets its
// reply; an error returned is for every recipient without one.
func send(c *smtp.Client, from string, valid []int, msg []byte, results []Result) (progress, error) {
	if err := c.Mail(from, nil); err != nil {
		return notMailed, wrap("MAIL", err)
	}
	accepted := 0
	for _, i := range valid {
		if err := c.Rcpt(results[i].Rcpt, nil); err != nil {
			results[i].Err = wrap("RCPT", err)
			results[i].Reply = results[i].Err.Error()
			continue
		}
		accepted++
	}
	if accepted == 0 {
		_ = c.Quit()
		return refused, nil
	}
	w, err := c.Data()
	if err != nil {
		return refused, wrap("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return refused, wrap("DATA", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return refused, wrap("end of DATA", err)
	}
	reply := "250 " + resp.StatusText
	for i := range results {
		if results[i].Err == nil {
			results[i].Reply = reply
		}
	}
	// After the commit point: whatever happens to the connection now
	// (QUIT, or kept for the next transaction) changes nothing.
	if accepted < len(valid) {
		return refused, nil
	}
	return clean, nil
}

// open dials the next hop and says EHLO, with STARTTLS when configured:
// required → it must succeed; opportunistic → a next hop that does not
// offer STARTTLS is dialled again in plain text.
func (s *SMTP) open(ctx context.Context) (*pconn, error) {
	dial := s.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second}).DialContext
	}
	pc, err := s.connect(ctx, dial)
	if err == nil {
		pc.born = time.Now()
		pc.uses = 1
		s.pool.opened.Add(1)
	}
	return pc, err
}

func (s *SMTP) connect(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error)) (*pconn, error) {
	open := func() (*boundedConn, error) {
		conn, err := dial(ctx, "tcp", s.Addr)
		if err != nil {
			return nil, &Error{Msg: "connect: " + err.Error(), Err: err}
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		bc := newBoundedConn(ctx, conn)
		bc.helloName = s.Hostname
		return bc, nil
	}
	conn, err := open()
	if err != nil {
		return nil, err
	}
	if s.TLS != nil {
		c, err := smtp.NewClientStartTLS(conn, s.TLS)
		if err == nil {
			// EHLO again, inside TLS; the handshake happens here.
			if err = c.Hello(s.Hostname); err == nil {
				return &pconn{c: c, bc: conn, verified: !s.TLS.InsecureSkipVerify}, nil
			}
			c.Close()
		}
		if s.RequireTLS {
			return nil, wrap("STARTTLS (required)", err)
		}
		// Opportunistic (RFC 7435): no STARTTLS there, or the negotiation
		// failed: plain text on a new connection.
		if conn, err = open(); err != nil {
			return nil, err
		}
	}
	c := smtp.NewClient(conn)
	if err := c.Hello(s.Hostname); err != nil {
		c.Close()
		return nil, wrap("EHLO", err)
	}
	return &pconn{c: c, bc: conn}, nil
}

// wrap turns a go-smtp error into an *Error, permanent for 5xx replies.
func wrap(stage string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e := &Error{Permanent: se.Code >= 500 && se.Code < 600, Code: se.Code, Msg: se.Message, Err: err}
		if se.EnhancedCode != smtp.NoEnhancedCode && se.EnhancedCode != smtp.EnhancedCodeNotSet {
			// go-smtp takes any "x.y.z" first word; one that disagrees
			// with the reply's class is kept as text, not as a status.
			if enh := enhancedString(se.EnhancedCode); validEnhanced(se.Code, enh) {
				e.Enhanced = enh
			} else {
				e.Msg = enh + " " + se.Message
			}
		}
		return e
	}
	return &Error{Msg: stage + ": " + err.Error(), Err: err}
}
