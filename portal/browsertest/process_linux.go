package browsertest

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// ownProcessGroup starts chromium in a process group of its own, so that
// killTree can reach its children, and has the kernel kill it when the
// thread that started it ends (chromedp locks that thread; a test binary
// killed by its timeout leaves no browser behind).
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killTree kills chromium's process group and then every process still
// running with dir in its command line (a child that left the group, as
// the crash handler does: chromium passes each child the folders it uses),
// until a few passes in a row find none.
func killTree(pgid int, dir string) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if killUsing(dir) == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// killUsing kills the processes with dir in their command line and
// returns how many it found.
func killUsing(dir string) int {
	pids := processesUsing(dir)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return len(pids)
}

// processesUsing lists the processes (but this one) with dir in an
// argument of their command line.
func processesUsing(dir string) []int {
	want := []byte(dir)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Contains(arg, want) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
