package main

import (
	"os"
	"syscall"
)

// exitWithParent asks the kernel to send SIGTERM when the parent (make or
// go run) dies, so the stack shuts down cleanly instead of lingering.
func exitWithParent() {
	parent := os.Getppid()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
	if os.Getppid() != parent { // the parent died before prctl took effect
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}
