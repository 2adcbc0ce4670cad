package main

import (
	"fmt"
	"io"
	"os"

	"mugai/policy/report"
)

// cmdReport summarises audit logs over a period, for the admins and the
// auditors (clause 7): text, CSV, or one self-contained HTML page.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr, "[-since DATE] [-until DATE] [-format text|csv|html] AUDIT...")
	since := fs.String("since", "", "records from this date (2026-11-01, local midnight) or RFC 3339 time")
	until := fs.String("until", "", "records before this date or time")
	format := fs.String("format", "text", "text, csv or html")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("needs at least one audit file")
	}
	s, err := parseDay("-since", *since)
	if err != nil {
		return err
	}
	u, err := parseDay("-until", *until)
	if err != nil {
		return err
	}
	write := map[string]func(*report.Report, io.Writer) error{
		"text": (*report.Report).WriteText, "csv": (*report.Report).WriteCSV, "html": (*report.Report).WriteHTML,
	}[*format]
	if write == nil {
		return usagef("-format %q is not text, csv or html", *format)
	}
	r := report.New(s, u)
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return usagef("%v", err)
		}
		err = r.Add(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return write(r, stdout)
}
