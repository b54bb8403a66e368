package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// errAlreadyRunning reports a live stack found through its pid file.
var errAlreadyRunning = errors.New("a dev stack is already running")

// acquirePIDFile creates path holding this process's pid. A file left by a
// process that no longer runs is replaced.
func acquirePIDFile(path string) error {
	for range 2 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
			cerr := f.Close()
			return errors.Join(werr, cerr)
		}
		if !errors.Is(err, os.ErrExist) {
			return err
		}
		b, rerr := os.ReadFile(path)
		if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return rerr
		}
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 && processAlive(pid) {
			return fmt.Errorf("%w (pid %d, pid file %s); stop it with Ctrl-C or `kill -INT %d`", errAlreadyRunning, pid, path, pid)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return fmt.Errorf("cannot take pid file %s", path)
}

// releasePIDFile removes path if it still names this process.
func releasePIDFile(path string) {
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(os.Getpid()) {
		_ = os.Remove(path)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
