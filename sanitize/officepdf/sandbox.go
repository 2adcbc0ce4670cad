package officepdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nobody is the identity the sandbox runs under when mugai runs as root:
// outside the sandbox its files are nobody's, so the host's root-only
// files stay closed to it even where they are visible.
const nobody = 65534

// Limits bound one sandboxed run; zero values mean the defaults.
type Limits struct {
	Memory   int64         // address space of each process (RLIMIT_AS); default 2 GiB
	CPU      time.Duration // CPU time of each process (RLIMIT_CPU); default 60s
	FileSize int64         // largest file a process may write (RLIMIT_FSIZE); default 128 MiB
	TmpSize  int64         // size of the private /tmp (tmpfs); default 512 MiB
	Output   int64         // bytes read back at most; default 64 MiB
}

func (l Limits) withDefaults() Limits {
	setDefault(&l.Memory, 2<<30)
	setDefault(&l.CPU, 60*time.Second)
	setDefault(&l.FileSize, 128<<20)
	setDefault(&l.TmpSize, 512<<20)
	setDefault(&l.Output, 64<<20)
	return l
}

func setDefault[T int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// inFile is a file put into the sandbox's private /tmp before the
// command starts (bwrap --file: copied from a pipe, no host path is bound).
type inFile struct {
	path string // inside, under /tmp
	data []byte
}

// sandbox runs a command under bubblewrap: its own user, PID, network
// (loopback only, private), IPC, UTS and cgroup namespaces; no
// capabilities and no further user namespaces; a root of /usr and the few
// files of /etc a program needs, read-only; a private size-limited /tmp;
// its own /dev and /proc; rlimits set by prlimit; a process group of its
// own that is killed when the run ends, whatever the outcome.
type sandbox struct {
	bwrap, prlimit string // host paths
	limits         Limits
	shareNet       bool // tests only: the control run that shows the sandbox is what stops a hostile document
}

// ownerEnv, in the environment of every sandboxed process, is the PID of
// the process that started it: an admin (or a test) tells this gateway's
// LibreOffice processes from another's (ps e, /proc/PID/environ).
const ownerEnv = "MUGAI_SANDBOX_OF"

var ownerPID = strconv.Itoa(os.Getpid())

// result is what a sandboxed run printed: stdout (at most Limits.Output
// bytes, overflow set beyond) and the tail of stderr.
type result struct {
	stdout   []byte
	overflow bool
	stderr   string
}

// argv builds the command line: prlimit, then bwrap and its options, then
// the command. fds[i] is the descriptor (3+i) bwrap copies files[i] from.
func (s *sandbox) argv(files []inFile, cmd []string) []string {
	l := s.limits.withDefaults()
	a := []string{s.prlimit,
		"--as=" + strconv.FormatInt(l.Memory, 10),
		"--cpu=" + strconv.FormatInt(int64(l.CPU/time.Second), 10),
		"--fsize=" + strconv.FormatInt(l.FileSize, 10),
		"--core=0", "--",
		s.bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
		"--die-with-parent", "--new-session", "--clearenv",
		"--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp", "--setenv", "PATH", "/usr/bin:/bin",
		"--setenv", "LANG", "C.UTF-8", "--setenv", "SAL_USE_VCLPLUGIN", "svp",
		"--setenv", ownerEnv, ownerPID, // names the gateway a sandboxed process belongs to
		"--ro-bind", "/usr", "/usr",
	}
	if s.shareNet {
		a = append(a, "--share-net")
	}
	// /bin, /lib… are links into /usr on a merged-/usr system (Debian
	// 12); otherwise directories, bound read-only.
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		if t, err := os.Readlink(d); err == nil {
			a = append(a, "--symlink", t, d)
		} else if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			a = append(a, "--ro-bind", d, d)
		}
	}
	// The few files of /etc that libraries read (fonts, the dynamic
	// linker's cache, LibreOffice's own configuration); no passwd, no
	// hosts, no keys.
	for _, p := range []string{"/etc/fonts", "/etc/ld.so.cache", "/etc/libreoffice", "/var/cache/fontconfig"} {
		a = append(a, "--ro-bind-try", p, p)
	}
	a = append(a, "--size", strconv.FormatInt(l.TmpSize, 10), "--tmpfs", "/tmp",
		"--dev", "/dev", "--proc", "/proc", "--chdir", "/tmp")
	dirs := map[string]bool{"/tmp": true}
	for i, f := range files {
		for _, d := range parents(f.path) {
			if !dirs[d] {
				dirs[d] = true
				a = append(a, "--dir", d)
			}
		}
		a = append(a, "--file", strconv.Itoa(3+i), f.path)
	}
	// The root (bwrap's own tmpfs holding the mount points) read-only
	// too: only /tmp can be written.
	a = append(a, "--remount-ro", "/")
	return append(append(a, "--"), cmd...)
}

// parents lists the directories above p, outermost first.
func parents(p string) []string {
	var ds []string
	for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
		ds = append([]string{d}, ds...)
	}
	return ds
}

// run runs cmd in the sandbox with files in its /tmp until it exits or
// ctx ends. Afterwards, on every path, the process group is killed: bwrap's
// child dies with it (--die-with-parent) and with that child, as PID 1 of
// the sandbox's PID namespace, every process left inside.
func (s *sandbox) run(ctx context.Context, files []inFile, cmd []string) (result, error) {
	argv := s.argv(files, cmd)
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Env = []string{ownerEnv + "=" + ownerPID} // prlimit and bwrap; bwrap clears it and sets it again inside
	c.Dir = "/"
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() == 0 {
		c.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	l := s.limits.withDefaults()
	stdout := &capped{max: l.Output}
	stderr := &capped{max: 4 << 10, tail: true}
	c.Stdout, c.Stderr = stdout, stderr
	var writers []*os.File
	for range files {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(writers)
			closeAll(c.ExtraFiles)
			return result{}, err
		}
		c.ExtraFiles = append(c.ExtraFiles, r)
		writers = append(writers, w)
	}
	c.Cancel = func() error { return killGroup(c.Process.Pid) }
	c.WaitDelay = 5 * time.Second
	if err := c.Start(); err != nil {
		closeAll(writers)
		closeAll(c.ExtraFiles)
		return result{}, fmt.Errorf("sandbox: %w", err)
	}
	pid := c.Process.Pid
	for _, r := range c.ExtraFiles {
		r.Close() // the child has them: a writer then fails when bwrap is gone, never blocks
	}
	for i, w := range writers {
		go func(w *os.File, data []byte) { // bwrap reads each file whole before the command starts
			defer w.Close()
			_, _ = w.Write(data)
		}(w, files[i].data)
	}
	err := c.Wait()
	_ = killGroup(pid) // also after success: nothing outlives the run
	res := result{stdout: stdout.buf.Bytes(), overflow: stdout.over, stderr: strings.TrimSpace(stderr.buf.String())}
	if ctx.Err() != nil {
		return res, fmt.Errorf("sandbox: stopped: %w", ctx.Err())
	}
	if err != nil {
		return res, fmt.Errorf("sandbox: %w (%s)", err, lastLine(res.stderr))
	}
	return res, nil
}

// killGroup sends SIGKILL to the process group pid leads; one that is
// gone already is not an error.
func killGroup(pid int) error {
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// capped keeps the first max bytes written (or, with tail, the last
// ones) and reports the rest as written, so that the writer is never
// blocked and memory stays bounded.
type capped struct {
	buf  bytes.Buffer
	max  int64
	over bool
	tail bool
}

func (c *capped) Write(p []byte) (int, error) {
	if c.tail {
		c.buf.Write(p)
		if n := int64(c.buf.Len()); n > c.max {
			keep := append([]byte(nil), c.buf.Bytes()[n-c.max:]...)
			c.buf.Reset()
			c.buf.Write(keep)
		}
		return len(p), nil
	}
	room := c.max - int64(c.buf.Len())
	if int64(len(p)) > room {
		c.over = true
		c.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	c.buf.Write(p)
	return len(p), nil
}

// lastLine is the last non-empty line of s, for error messages.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
