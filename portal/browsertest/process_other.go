//go:build !linux

package browsertest

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts chromium in a process group of its own, so that
// killTree can reach its children.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killTree kills chromium's process group.
func killTree(pgid int, _ string) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// processesUsing is only known on Linux (from /proc).
func processesUsing(string) []int { return nil }
