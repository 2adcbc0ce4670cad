package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"mugai/gateway/safeio"
	"mugai/portal"
	"mugai/portal/auth"
	"mugai/portal/token"
)

// portalSide is the running portal: its server, listener and the key
// that signs the links in notices.
type portalSide struct {
	server *portal.Server
	l      net.Listener
	secret []byte
	base   string
}

// openPortal loads (or creates) the link key and listens, when
// portal.listen is set; the gateway's start fails with the portal's
// problem rather than run with notices whose links lead nowhere.
func (g *Gateway) openPortal() error {
	c := g.cfg.Portal
	if c.Listen == "" {
		return nil
	}
	secret, err := token.LoadSecret(c.SecretFile)
	if err != nil {
		return fmt.Errorf("portal.secret_file: %w", err)
	}
	if err := g.ensureUsers(c.Users); err != nil {
		return fmt.Errorf("portal.users: %w", err)
	}
	proxies, err := c.Proxies()
	if err != nil {
		return fmt.Errorf("portal.trusted_proxies: %w", err)
	}
	l, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("portal.listen: %w", err)
	}
	base := c.BaseURL()
	if c.URL == "" {
		base = "http://" + l.Addr().String() // the port the kernel chose, for listen ":0" in tests
	}
	srv, err := portal.New(portal.Config{URL: base, Secret: secret, Users: c.Users, TrustedHeader: c.TrustedHeader,
		TrustedProxies: proxies, Approvers: c.Approvers, Notify: c.Notify, StateDir: c.State,
		Now: func() time.Time { return g.Now() }, Log: g.log.With("component", "portal")}, portalBackend{g})
	if err != nil {
		l.Close()
		return fmt.Errorf("portal: %w", err)
	}
	g.portal = &portalSide{server: srv, l: l, secret: secret, base: base}
	return nil
}

// ensureUsers creates an empty approvers file where portal.users names
// one that does not exist (the embedded defaults name var/approvers.htpasswd),
// so `mugai portal passwd NAME` can add the first approver to a running
// gateway; until then nobody can approve, which the log says.
func (g *Gateway) ensureUsers(path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		if u, lerr := auth.LoadUsers(path); err == nil && lerr == nil && u.Len() == 0 {
			g.log.Warn("portal: no approvers yet; add one with `mugai portal passwd -config FILE NAME` (or htpasswd -B)", "users", path)
		}
		return err
	}
	note := "# mugai approvers (bcrypt, as htpasswd -B writes): mugai portal passwd NAME adds one\n"
	err := safeio.MkdirAll(filepath.Dir(path), 0o750)
	if err == nil {
		err = safeio.WriteFile(path, []byte(note), 0o600)
	}
	if err != nil {
		return fmt.Errorf("%s does not exist and cannot be created (%w); add an approver with `mugai portal passwd NAME` or `htpasswd -B -c %s NAME`", path, err, path)
	}
	g.log.Warn("portal: no approvers yet; add one with `mugai portal passwd -config FILE NAME` (or htpasswd -B)", "users", path)
	return safeio.SyncDir(filepath.Dir(path))
}

// portalLink is the link written into the notice of message id, valid
// until its original is purged; "" when the portal is off.
func (g *Gateway) portalLink(id string, received time.Time) string {
	if g.portal == nil {
		return ""
	}
	return portal.Link(g.portal.base, g.portal.secret, id, g.expires(received))
}

// PortalAddr is where the portal listens ("" when off).
func (g *Gateway) PortalAddr() string {
	if g.portal == nil {
		return ""
	}
	return g.portal.l.Addr().String()
}

// servePortal serves the portal until ctx ends, and purges requests
// whose original is gone once a day (with the originals' purge).
func (g *Gateway) servePortal(ctx context.Context) {
	p := g.portal
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.server.Shutdown(sctx)
	}()
	var err error
	if c := g.cfg.Portal; c.TLSCert != "" {
		err = p.server.ServeTLS(p.l, c.TLSCert, c.TLSKey)
	} else {
		err = p.server.Serve(p.l)
	}
	if err != nil && !g.closing.Load() && !errors.Is(err, http.ErrServerClosed) {
		g.log.Error("portal stopped", "err", err)
	}
}
