package testenv

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the child in its own process group, so Stop reaches every
// process it spawns, and asks the kernel to kill it when the thread that
// started it dies (the Go runtime does not retire threads of unlocked
// goroutines, so in practice: when this process dies).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func signalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}

// pauseGroup stops (SIGSTOP) or continues (SIGCONT) the process group.
func pauseGroup(cmd *exec.Cmd, stop bool) error {
	sig := syscall.SIGCONT
	if stop {
		sig = syscall.SIGSTOP
	}
	return syscall.Kill(-cmd.Process.Pid, sig)
}
