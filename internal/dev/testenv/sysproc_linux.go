package testenv

import "syscall"

// sysProcAttr puts the child in its own process group, so Stop reaches every
// process it spawns, and asks the kernel to kill it when the thread that
// started it dies (the Go runtime does not retire threads of unlocked
// goroutines, so in practice: when this process dies).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
