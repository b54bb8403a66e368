//go:build unix && !linux

package testenv

import "syscall"

// sysProcAttr puts the child in its own process group so Stop reaches every
// process it spawns.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
