// Package interop runs private Postfix instances next to mugai for the
// interoperability check (make interop) and the comparison with Postfix
// (make perf). Each instance lives in its own directory (configuration,
// queue, data, log), listens on one 127.0.0.1 port and runs no chroot, so
// that several can run beside each other and beside a system Postfix.
// It needs root (Postfix's master starts as root and drops to the
// postfix user) and Debian's postfix package; see Require.
package interop

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Require reports what is missing to run Postfix instances: the programs
// and root.
func Require(programs ...string) error {
	var missing []string
	for _, p := range append([]string{"postfix", "postconf"}, programs...) {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("not installed: %s (make interop installs Debian's postfix and swaks)", strings.Join(missing, ", "))
	}
	if os.Geteuid() != 0 {
		return errors.New("postfix instances need root: master starts as root and drops to the postfix user")
	}
	if _, err := user.Lookup("postfix"); err != nil {
		return fmt.Errorf("no postfix user: %v", err)
	}
	return nil
}

// FreePorts asks the kernel for n distinct free ports on 127.0.0.1.
// Postfix cannot listen on port 0, so the ports are released and handed
// over. All n are held until the last is chosen: released one by one, the
// kernel may give the same port twice (it did: two Postfix instances on
// one port make a mail loop). Another process could still take one before
// it is used, which on a test machine only means a failed start, reported
// as such.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Postfix is one private instance.
type Postfix struct {
	Dir      string            // its root: conf/, queue/, data/, maillog
	Hostname string            // myhostname
	Port     int               // its SMTP service on 127.0.0.1
	Main     map[string]string // main.cf settings over the defaults below
}

// Addr is the instance's SMTP address.
func (p *Postfix) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.Port) }

func (p *Postfix) conf() string { return filepath.Join(p.Dir, "conf") }

// LogFile is where the instance logs (maillog_file, through postlogd).
func (p *Postfix) LogFile() string { return filepath.Join(p.Dir, "maillog") }

// master.cf: every service without chroot, the SMTP service on our port.
const masterCF = `%s inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -    - proxymap
smtp      unix  - - n -    - smtp
relay     unix  - - n -    - smtp
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
local     unix  - n n -    - local
virtual   unix  - n n -    - virtual
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
`

// Start writes the configuration and starts the instance.
func (p *Postfix) Start() error {
	if err := p.makeDirs(); err != nil {
		return err
	}
	if err := p.writeConfig(); err != nil {
		return err
	}
	if err := p.run("postfix", "-c", p.conf(), "start"); err != nil {
		return err
	}
	return p.waitListening(10 * time.Second)
}

// makeDirs creates the instance's root, conf/, queue/ and data/, data/
// owned by the postfix user.
func (p *Postfix) makeDirs() error {
	for _, d := range []string{p.Dir, p.conf(), filepath.Join(p.Dir, "queue"), filepath.Join(p.Dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		// The postfix user must reach its queue through every parent.
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	u, err := user.Lookup("postfix")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(filepath.Join(p.Dir, "data"), uid, gid)
}

// writeConfig writes main.cf (the defaults below, then Main over them,
// sorted by key) and master.cf.
func (p *Postfix) writeConfig() error {
	settings := p.defaults()
	for k, v := range p.Main {
		settings[k] = v
	}
	var main strings.Builder
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		fmt.Fprintf(&main, "%s = %s\n", k, settings[k])
	}
	if err := os.WriteFile(filepath.Join(p.conf(), "main.cf"), []byte(main.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p.conf(), "master.cf"), fmt.Appendf(nil, masterCF, p.Addr()), 0o644)
}

// defaults are the main.cf settings of every instance: its own
// directories, names and log, 127.0.0.1 only, no DNS, no local delivery.
func (p *Postfix) defaults() map[string]string {
	return map[string]string{
		"compatibility_level":   "3.6",
		"queue_directory":       filepath.Join(p.Dir, "queue"),
		"data_directory":        filepath.Join(p.Dir, "data"),
		"mail_owner":            "postfix",
		"setgid_group":          "postdrop",
		"myhostname":            p.Hostname,
		"mydomain":              p.Hostname,
		"myorigin":              "$myhostname",
		"inet_interfaces":       "127.0.0.1",
		"inet_protocols":        "ipv4",
		"mydestination":         "",
		"mynetworks":            "127.0.0.0/8",
		"relay_domains":         "",
		"smtpd_peername_lookup": "no",
		// Next hops are given as [127.0.0.1]:port: no DNS at all.
		"smtp_dns_support_level": "disabled",
		"smtp_host_lookup":       "native",
		"maillog_file":           p.LogFile(),
		"maillog_file_prefixes":  p.Dir,
		"alias_maps":             "",
		"alias_database":         "",
		"local_recipient_maps":   "",
		"biff":                   "no",
		"smtpd_banner":           "$myhostname ESMTP",
	}
}

// Postconf changes main.cf settings ("key=value") and reloads a running
// instance.
func (p *Postfix) Postconf(settings ...string) error {
	if err := p.run("postconf", append([]string{"-c", p.conf(), "-e"}, settings...)...); err != nil {
		return err
	}
	return p.run("postfix", "-c", p.conf(), "reload")
}

// Stop stops the instance and waits until its port is closed.
func (p *Postfix) Stop() error {
	err := p.run("postfix", "-c", p.conf(), "stop")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, derr := net.DialTimeout("tcp", p.Addr(), 200*time.Millisecond)
		if derr != nil {
			return err
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	return errors.Join(err, fmt.Errorf("postfix on %s still listening 10 s after stop", p.Addr()))
}

// Flush asks the instance to retry its deferred mail now.
func (p *Postfix) Flush() error { return p.run("postfix", "-c", p.conf(), "flush") }

// Log returns the last n lines of the instance's log.
func (p *Postfix) Log(n int) string {
	b, _ := os.ReadFile(p.LogFile())
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (p *Postfix) run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)), p.Log(20))
	}
	return nil
}

func (p *Postfix) waitListening(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", p.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postfix on %s not listening after %v: %v\n%s", p.Addr(), limit, err, p.Log(20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
