package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"mugai/gateway"
	"mugai/policy/report"
)

// cmdReport summarises audit logs over a period, for the admins and the
// auditors (clause 7): text, CSV, or one self-contained HTML page. The
// configuration gives the clause catalogue the titles come from, and the
// audit log read when no AUDIT file is named.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	var since, until, format, zone *string
	fs, cfg, err := configSetup("report", args, stderr,
		"[-config FILE] [-since DATE] [-until DATE] [-tz ZONE] [-format text|csv|html] [AUDIT...]", func(fs *flags) {
			since = fs.String("since", "", "records from this date (2026-11-01, midnight in -tz) or RFC 3339 time")
			until = fs.String("until", "", "records before this date or time")
			zone = fs.String("tz", "", "time zone of the dates and times shown, as Asia/Tokyo (default: local, $TZ)")
			format = fs.String("format", "text", "text, csv or html")
		})
	if err != nil {
		return err
	}
	files, err := auditFiles(fs, cfg)
	if err != nil {
		return err
	}
	loc := time.Local
	if *zone != "" {
		if loc, err = time.LoadLocation(*zone); err != nil {
			return usagef("-tz %q is not a time zone (Asia/Tokyo, UTC): %v", *zone, err)
		}
	}
	s, err := parseDayIn("-since", *since, loc)
	if err != nil {
		return err
	}
	u, err := parseDayIn("-until", *until, loc)
	if err != nil {
		return err
	}
	if !s.IsZero() && !u.IsZero() && !u.After(s) {
		return usagef("-until %s is not after -since %s: the period would be empty", *until, *since)
	}
	write := map[string]func(*report.Report, io.Writer) error{
		"text": (*report.Report).WriteText, "csv": (*report.Report).WriteCSV, "html": (*report.Report).WriteHTML,
	}[*format]
	if write == nil {
		return usagef("-format %q is not text, csv or html", *format)
	}
	r := report.New(s, u)
	r.Loc = loc
	if r.Catalogue, err = cfg.LoadClauses(); err != nil {
		return usagef("%s", oneLine(err))
	}
	for _, name := range files {
		if err := addLog(r, name); err != nil {
			return err
		}
	}
	return write(r, stdout)
}

// auditFiles are the AUDIT arguments, or without any the audit log of the
// configuration (findConfig), which must exist.
func auditFiles(fs *flags, cfg gateway.Config) ([]string, error) {
	if fs.NArg() > 0 {
		return fs.Args(), nil
	}
	if _, err := os.Stat(cfg.Audit); err != nil {
		return nil, usagef("audit log %s (%s): %v; or name at least one audit file", cfg.Audit, configName(fs), err)
	}
	return []string{cfg.Audit}, nil
}

func addLog(r *report.Report, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return usagef("%v", err)
	}
	defer f.Close()
	if err := r.Add(f); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// parseDayIn reads a -since or -until: a date (midnight in loc) or an RFC
// 3339 time.
func parseDayIn(flag, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, usagef("%s %q is not a date (2026-11-26) or an RFC 3339 time", flag, s)
	}
	return t, nil
}
