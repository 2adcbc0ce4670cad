package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mugai/policy"
)

// metrics are the gateway's Prometheus series, on their own registry (no
// process-global state; tests start many gateways).
type metrics struct {
	reg        *prometheus.Registry
	received   prometheus.Counter
	rejected   prometheus.Counter
	deliveries *prometheus.CounterVec   // result: delivered, deferred, bounced
	decisions  *prometheus.CounterVec   // action, rule
	sanitize   *prometheus.HistogramVec // action: the strongest action in the message
	abandoned  *prometheus.CounterVec   // cause: deadline, memory, client_gone
}

func newMetrics(g *Gateway) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "mugai_messages_received_total",
			Help: "Messages accepted (250) after the original and the rebuilt message were durable."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "mugai_messages_rejected_total",
			Help: "Messages refused at DATA (4xx or 5xx), as in the rejected audit records."}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mugai_deliveries_total",
			Help: "Delivery outcomes per recipient: delivered, deferred, bounced."}, []string{"result"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mugai_decisions_total",
			Help: "Decisions per MIME part, by action and rule."}, []string{"action", "rule"}),
		sanitize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mugai_sanitize_seconds",
			Help:    "Time to rebuild one message, by the strongest action applied to it.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"action"}),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mugai_rebuilds_abandoned_total",
			Help: "Messages answered 4xx with nothing kept because their rebuild stopped: deadline (limits.rebuild_timeout), " +
				"memory (limits.rebuild_memory), client_gone (the client closed the connection first)."}, []string{"cause"}),
	}
	for _, c := range []string{causeDeadline, causeMemory, causeClientGone} {
		m.abandoned.WithLabelValues(c)
	}
	for _, r := range []string{"delivered", "deferred", "bounced"} {
		m.deliveries.WithLabelValues(r) // present from the start, at 0
	}
	store := &dirSize{dir: g.cfg.Originals, ttl: time.Minute}
	m.reg.MustRegister(m.received, m.rejected, m.deliveries, m.decisions, m.sanitize, m.abandoned,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_queue_messages",
			Help: "Messages waiting for delivery or being delivered."}, func() float64 { return float64(g.deliverer.queued()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_queue_oldest_seconds",
			Help: "Age of the oldest message waiting for delivery (0 when none)."}, func() float64 {
			if t := g.deliverer.oldest(); !t.IsZero() {
				return g.Now().Sub(t).Seconds()
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_originals_bytes",
			Help: "Bytes in the originals store (measured at most once a minute)."}, store.bytes),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_rebuild_memory_reserved_bytes",
			Help: "Memory reserved by the rebuilds running now (limits.rebuild_memory bounds it)."}, func() float64 { return float64(g.memory.inUse()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mugai_panics_total",
			Help: "Panics recovered in sessions and sanitizers."}, func() float64 { return float64(g.Panics()) }),
	)
	return m
}

// Causes of an abandoned rebuild, the label of mugai_rebuilds_abandoned_total.
const (
	causeDeadline   = "deadline"
	causeMemory     = "memory"
	causeClientGone = "client_gone"
)

// actionWeight orders actions by how much they change a part, to label a
// message's sanitize time by the heaviest work in it.
var actionWeight = map[policy.Action]int{policy.ActionTextify: 1, policy.ActionStrip: 2, policy.ActionKeep: 3,
	policy.ActionExtract: 4, policy.ActionDisarm: 5, policy.ActionFlatten: 6}

func (m *metrics) accepted(ds []policy.Decision, took time.Duration) {
	m.received.Inc()
	strongest := policy.ActionTextify
	for _, d := range ds {
		m.decisions.WithLabelValues(string(d.Action), d.RuleID).Inc()
		if actionWeight[d.Action] > actionWeight[strongest] {
			strongest = d.Action
		}
	}
	m.sanitize.WithLabelValues(string(strongest)).Observe(took.Seconds())
}

// dirSize measures a directory tree, caching the result for ttl.
type dirSize struct {
	dir string
	ttl time.Duration

	mu   sync.Mutex
	at   time.Time
	size float64
}

func (d *dirSize) bytes() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.at) < d.ttl {
		return d.size
	}
	var total int64
	filepath.WalkDir(d.dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	d.at, d.size = time.Now(), float64(total)
	return d.size
}

// health is what /healthz reports.
type health struct {
	OK      bool   `json:"ok"`
	Spool   string `json:"spool"`    // "ok" or the error writing a file there
	NextHop string `json:"next_hop"` // "ok", or why the relay (or Maildir) is not reachable
}

func (g *Gateway) health(ctx context.Context) health {
	h := health{Spool: "ok", NextHop: "ok"}
	if err := probeWrite(g.cfg.Spool); err != nil {
		h.Spool = err.Error()
	}
	if relay := g.cfg.Deliver.Relay; relay != "" {
		c, err := (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, "tcp", relay)
		if err != nil {
			h.NextHop = err.Error()
		} else {
			c.Close()
		}
	} else if err := probeWrite(g.cfg.Deliver.Maildir); err != nil {
		h.NextHop = err.Error()
	}
	h.OK = h.Spool == "ok" && h.NextHop == "ok"
	return h
}

// probeWrite creates, syncs and removes a small file in dir.
func probeWrite(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".healthz-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString("ok\n")
	return errors.Join(werr, f.Sync(), f.Close())
}

// serveMetrics runs /metrics and /healthz on addr until ctx ends.
func (g *Gateway) serveMetrics(ctx context.Context, l net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		h := g.health(r.Context())
		w.Header().Set("Content-Type", "application/json")
		if !h.OK {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(h)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		g.log.Error("metrics server stopped", "err", err)
	}
}
