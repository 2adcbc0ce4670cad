package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mugai/gateway/delivery"
	"mugai/policy"
	"mugai/policy/audit"
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
	tempfail   *prometheus.CounterVec   // class: audit.Class*
	reloadFail prometheus.Counter       // policy reloads refused
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
		tempfail: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mugai_tempfail_total",
			Help: "Transactions answered 4xx because of a local failure, by class (as in the tempfail audit records)."}, []string{"class"}),
		reloadFail: prometheus.NewCounter(prometheus.CounterOpts{Name: "mugai_policy_reload_failures_total",
			Help: "Policy reloads (SIGHUP) refused because the policy file did not load."}),
	}
	for _, c := range []string{audit.ClassSpool, audit.ClassOriginals, audit.ClassAudit, audit.ClassSpace,
		audit.ClassQueue, audit.ClassDeadline, audit.ClassMemory, audit.ClassInternal} {
		m.tempfail.WithLabelValues(c)
	}
	for _, c := range []string{causeDeadline, causeMemory, causeClientGone} {
		m.abandoned.WithLabelValues(c)
	}
	for _, o := range delivery.Outcomes {
		m.deliveries.WithLabelValues(string(o)) // present from the start, at 0
	}
	store := &dirSize{dir: g.cfg.Originals, ttl: time.Minute}
	m.reg.MustRegister(m.received, m.rejected, m.deliveries, m.decisions, m.sanitize, m.abandoned, m.tempfail, m.reloadFail,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_policy_on_disk_ok",
			Help: "1 when the policy file on disk loaded at the last start or reload, 0 when a reload refused it (a restart would fail)."},
			func() float64 {
				if g.PolicyFileError() != nil {
					return 0
				}
				return 1
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_queue_messages",
			Help: "Messages waiting for delivery or being delivered."}, func() float64 { return float64(g.delivery.Queued()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_queue_oldest_seconds",
			Help: "Age of the oldest message waiting for delivery (0 when none)."}, func() float64 {
			if t := g.delivery.Oldest(); !t.IsZero() {
				return g.Now().Sub(t).Seconds()
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_originals_bytes",
			Help: "Bytes in the originals store (measured at most once a minute)."}, store.bytes),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mugai_rebuild_memory_reserved_bytes",
			Help: "Memory reserved by the rebuilds running now (limits.rebuild_memory bounds it)."}, func() float64 { return float64(g.memory.inUse()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mugai_relay_connections_opened_total",
			Help: "Connections opened to deliver.relay and deliver.bounce_relay."}, func() float64 { return float64(g.delivery.Connections().Opened) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mugai_relay_connections_reused_total",
			Help: "Transactions run on a kept connection to deliver.relay or deliver.bounce_relay (after a good RSET)."}, func() float64 { return float64(g.delivery.Connections().Reused) }),
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

// serveMetrics runs /metrics and /healthz on addr until ctx ends.
func (g *Gateway) serveMetrics(ctx context.Context, l net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.metrics.reg, promhttp.HandlerOpts{}))
	hc := &healthCache{probe: g.health, ttl: healthTTL, now: g.Now}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		h, err := hc.get(r.Context())
		if err != nil {
			return // the client went away
		}
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
