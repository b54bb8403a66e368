//go:build !unix

package testenv

import (
	"errors"
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }

func pauseGroup(*exec.Cmd, bool) error {
	return errors.New("testenv: pausing a process is not supported here")
}
