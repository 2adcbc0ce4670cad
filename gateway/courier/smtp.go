package courier

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// SMTP relays to one next-hop MTA.
type SMTP struct {
	Addr     string        // host:port
	Hostname string        // our EHLO name
	Timeout  time.Duration // whole transaction
	// Dial, when set, replaces the network dialer (tests).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Name implements Courier.
func (s *SMTP) Name() string { return "relay " + s.Addr }

// Deliver implements Courier. One transaction carries every recipient. The
// commit point is the next hop's reply to the end of DATA: once it said
// 250, nothing that fails afterwards (QUIT) can make us send again.
func (s *SMTP) Deliver(ctx context.Context, from string, rcpts []string, msg []byte) []Result {
	results := make([]Result, len(rcpts))
	for i, r := range rcpts {
		results[i].Rcpt = r
	}
	failAll := func(err error) []Result {
		for i := range results {
			if results[i].Err == nil {
				results[i].Err, results[i].Reply = err, err.Error()
			}
		}
		return results
	}
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	dial := s.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second}).DialContext
	}
	conn, err := dial(ctx, "tcp", s.Addr)
	if err != nil {
		return failAll(&Error{Msg: "connect: " + err.Error(), Err: err})
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello(s.Hostname); err != nil {
		return failAll(wrap("EHLO", err))
	}
	if err := c.Mail(from, nil); err != nil {
		return failAll(wrap("MAIL", err))
	}
	accepted := 0
	for i, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			results[i].Err = wrap("RCPT", err)
			results[i].Reply = results[i].Err.Error()
			continue
		}
		accepted++
	}
	if accepted == 0 {
		_ = c.Quit()
		return results
	}
	w, err := c.Data()
	if err != nil {
		return failAll(wrap("DATA", err))
	}
	if _, err := w.Write(msg); err != nil {
		return failAll(wrap("DATA", err))
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return failAll(wrap("end of DATA", err))
	}
	reply := "250 " + resp.StatusText
	for i := range results {
		if results[i].Err == nil {
			results[i].Reply = reply
		}
	}
	_ = c.Quit() // after the commit point: errors here change nothing
	return results
}

// wrap turns a go-smtp error into an *Error, permanent for 5xx replies.
func wrap(stage string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		e := &Error{Permanent: se.Code >= 500 && se.Code < 600, Code: se.Code, Msg: se.Message, Err: err}
		if se.EnhancedCode != smtp.NoEnhancedCode && se.EnhancedCode != smtp.EnhancedCodeNotSet {
			e.Enhanced = fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		return e
	}
	return &Error{Msg: stage + ": " + err.Error(), Err: err}
}
