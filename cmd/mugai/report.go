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
	fs := newFlags("report", stderr, "[-config FILE] [-since DATE] [-until DATE] [-format text|csv|html] [AUDIT...]")
	configFile := fs.String("config", "", "without AUDIT files: the configuration whose audit log to read (default: $MUGAI_CONFIG, else "+systemConfig+" when it exists, else the embedded defaults)")
	since := fs.String("since", "", "records from this date (2026-11-01, local midnight) or RFC 3339 time")
	until := fs.String("until", "", "records before this date or time")
	format := fs.String("format", "text", "text, csv or html")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	files, err := auditFiles(fs, *configFile)
	if err != nil {
		return err
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
	for _, name := range files {
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

// auditFiles are the AUDIT arguments, or without any the audit log of the
// configuration (findConfig), which must exist.
func auditFiles(fs *flags, configFile string) ([]string, error) {
	if fs.NArg() > 0 {
		return fs.Args(), nil
	}
	cfg, err := findConfig(configFile).load()
	if err != nil {
		return nil, usagef("%s", oneLine(err))
	}
	if _, err := os.Stat(cfg.Audit); err != nil {
		return nil, usagef("audit log %s (%s): %v; or name at least one audit file", cfg.Audit, configName(fs), err)
	}
	return []string{cfg.Audit}, nil
}
