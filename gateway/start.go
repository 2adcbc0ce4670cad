package gateway

import (
	"fmt"
	"net"
)

// preflight does what fails on a configuration mistake before anything
// is recovered or audited: the TLS files are read, the SMTP server built
// and the metrics and portal listeners opened.
func (g *Gateway) preflight() error {
	if _, err := clientTLS(g.cfg.Deliver); err != nil {
		return err
	}
	var err error
	if g.server, err = g.newServer(); err != nil {
		return err
	}
	if g.cfg.Metrics != "" {
		if g.metricsL, err = net.Listen("tcp", g.cfg.Metrics); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return g.openPortal()
}

// closeListeners closes what preflight opened, after a failed start.
func (g *Gateway) closeListeners() {
	if g.metricsL != nil {
		g.metricsL.Close()
	}
	if g.portal != nil {
		g.portal.l.Close()
	}
	if g.audit != nil {
		g.audit.Close()
	}
	g.closePools()
}
