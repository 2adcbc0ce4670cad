package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"time"

	"mugai/gateway/load"
)

// cmdLoad sends a load to an SMTP server and reports the rates: the tool
// an admin uses to size a deployment.
func cmdLoad(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", stderr, "[-n N] [-c C] [-message FILE] [-from ADDR] [-to ADDR] [-sink ADDR] HOST:PORT")
	n := fs.Int("n", 1000, "messages to send")
	c := fs.Int("c", 20, "concurrent SMTP sessions (one message per session)")
	msgFile := fs.String("message", "", "message file to send (default: a generated ~150 KB Japanese mail with a PDF)")
	from := fs.String("from", "load@example.jp", "envelope sender")
	to := fs.String("to", "staff@city.example.lg.jp", "envelope recipient")
	sink := fs.String("sink", "", "also run a recording SMTP sink here (the gateway's relay) and report end-to-end time")
	wait := durationFlag(fs, "wait", 5*time.Minute, "with -sink: how long to wait for the last message")
	timeout := durationFlag(fs, "timeout", 2*time.Minute, "per session")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("needs the HOST:PORT to send to")
	}
	if *n < 1 || *c < 1 {
		return usagef("-n and -c must be at least 1")
	}
	msg := load.Realistic()
	if *msgFile != "" {
		var err error
		if msg, err = os.ReadFile(*msgFile); err != nil {
			return usagef("%v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := load.Run(ctx, load.Options{Addr: fs.Arg(0), Messages: *n, Sessions: *c, Message: msg, From: *from, To: *to,
		Timeout: *timeout, Sink: *sink, SinkWait: *wait})
	if err != nil && res.Sent == 0 {
		return err
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(stdout, "sent %d of %d messages (%d bytes each) over %d sessions in %.2f s: %.1f msg/s\n",
		res.Sent, *n, len(msg), *c, res.Elapsed.Seconds(), res.Rate())
	fmt.Fprintf(stdout, "DATA to reply: p50 %s, p95 %s, p99 %s\n", ms(res.Percentile(50)), ms(res.Percentile(95)), ms(res.Percentile(99)))
	for _, k := range slices.Sorted(maps.Keys(res.Errors)) {
		fmt.Fprintf(stdout, "errors %s: %d\n", k, res.Errors[k])
	}
	if *sink != "" {
		if res.EndToEnd > 0 {
			fmt.Fprintf(stdout, "sink %s: %d messages, the last %.2f s after the first was sent: %.1f msg/s end to end\n",
				*sink, res.Sunk, res.EndToEnd.Seconds(), float64(res.Sunk)/res.EndToEnd.Seconds())
		} else {
			fmt.Fprintf(stdout, "sink %s: only %d of %d messages arrived within %s\n", *sink, res.Sunk, res.Sent, *wait)
		}
	}
	if len(res.Errors) > 0 {
		return &failure{code: 1}
	}
	return nil
}
