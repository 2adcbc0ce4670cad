package report

import (
	"slices"
	"time"
)

// policyRecord is a policy record: a policy put in force (at start, on a
// reload) or, with Error, a new one refused while the previous one stays.
type policyRecord struct {
	Time                     time.Time
	Source, SHA256, Previous string
	Error                    string
}

// citing counts the decisions made under one policy version, by minute:
// enough to tell apart two stretches of the same version (A, then B, then
// A again), few enough to keep for a year of log.
type citing map[int64]int

func (r *Report) cite(sha string, t time.Time) {
	c := r.cited[sha]
	if c == nil {
		c = &citing{}
		r.cited[sha] = c
	}
	(*c)[t.Unix()/60]++
}

// Version is one policy in force over a stretch of time: what 自己点検
// asks (which rules were applied when).
type Version struct {
	SHA256 string // of the policy file's bytes (sha256sum gives the same)
	Source string // the file it was loaded from; "" when no policy record in the logs read names it
	// From is when it was put in force, zero when that is before the
	// logs read; Until is when another one replaced it, zero when it
	// was still in force at the end of the logs.
	From, Until time.Time
	Decisions   int // decisions of the period made under it
}

// Refusal is a policy that was refused on a reload; the one in force
// stayed.
type Refusal struct {
	Time   time.Time
	Source string
	Error  string
}

// start and end are the period: the requested bounds where given, the
// first and the last record counted elsewhere.
func (r *Report) start() time.Time {
	if !r.Since.IsZero() {
		return r.Since
	}
	return r.First
}

func (r *Report) end() time.Time {
	if !r.Until.IsZero() {
		return r.Until
	}
	return r.Last
}

// Versions returns the policy versions in force during the period, in
// order, each with the decisions made under it. A version the decisions
// cite that no policy record names (its record is in an older log) is
// listed too, without a source, from its first decision to its last.
func (r *Report) Versions() []Version {
	var runs []Version
	recs := slices.Clone(r.policies)
	slices.SortStableFunc(recs, func(a, b policyRecord) int { return a.Time.Compare(b.Time) })
	for _, p := range recs {
		if p.Error != "" {
			continue
		}
		if len(runs) == 0 && p.Previous != "" && p.Previous != p.SHA256 {
			runs = append(runs, Version{SHA256: p.Previous}) // in force before the first record read
		}
		if n := len(runs); n > 0 {
			if runs[n-1].SHA256 == p.SHA256 && runs[n-1].Source == p.Source {
				continue // a restart under the same policy
			}
			runs[n-1].Until = p.Time
		}
		runs = append(runs, Version{SHA256: p.SHA256, Source: p.Source, From: p.Time})
	}
	start, end := r.start(), r.end()
	var out []Version
	for _, v := range runs {
		if !v.Until.IsZero() && !v.Until.After(start) || !end.IsZero() && v.From.After(end) {
			continue
		}
		out = append(out, v)
	}
	return r.attribute(out)
}

// attribute gives each version the decisions made under it: a decision
// goes to the latest stretch of its version begun by its minute.
func (r *Report) attribute(vs []Version) []Version {
	for sha, c := range r.cited {
		idx := -1
		for i, v := range vs {
			if v.SHA256 == sha {
				idx = i
			}
		}
		if idx < 0 {
			vs = append(vs, r.uncited(sha, *c))
			continue
		}
		for minute, n := range *c {
			best := -1
			for i, v := range vs {
				if v.SHA256 == sha && (best < 0 || v.From.Unix()/60 <= minute) {
					best = i
				}
			}
			vs[best].Decisions += n
		}
	}
	slices.SortStableFunc(vs, func(a, b Version) int { return a.From.Compare(b.From) })
	return vs
}

// uncited is a version only decisions tell of.
func (r *Report) uncited(sha string, c citing) Version {
	v := Version{SHA256: sha}
	var first, last int64
	seen := false
	for minute, n := range c {
		v.Decisions += n
		if !seen || minute < first {
			first = minute
		}
		if !seen || minute > last {
			last = minute
		}
		seen = true
	}
	v.From, v.Until = time.Unix(first*60, 0), time.Unix(last*60+59, 0)
	return v
}

// Refusals returns the policies refused on a reload during the period.
func (r *Report) Refusals() []Refusal {
	var out []Refusal
	for _, p := range r.policies {
		if p.Error == "" || !r.Since.IsZero() && p.Time.Before(r.Since) || !r.Until.IsZero() && !p.Time.Before(r.Until) {
			continue
		}
		out = append(out, Refusal{p.Time, p.Source, p.Error})
	}
	slices.SortStableFunc(out, func(a, b Refusal) int { return a.Time.Compare(b.Time) })
	return out
}
