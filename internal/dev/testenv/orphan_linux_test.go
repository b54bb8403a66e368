//go:build linux

package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNoOrphanWhenKilled runs this test binary as a child that starts dynalite
// and is then SIGKILLed, as `go test -timeout` ends a hung binary; dynalite
// must die with it.
func TestNoOrphanWhenKilled(t *testing.T) {
	if os.Getenv("TESTENV_ORPHAN_CHILD") == "1" {
		d, err := StartDynalite(context.Background())
		if err != nil {
			os.Stdout.WriteString("ERR " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("PID " + strconv.Itoa(d.proc.cmd.Process.Pid) + "\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoOrphanWhenKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTENV_ORPHAN_CHILD=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	var line string
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(line, "\n") && time.Now().Before(deadline) {
		n, err := stdout.Read(buf)
		line += string(buf[:n])
		if err != nil {
			break
		}
	}
	var pid int
	if _, err := fmt.Sscanf(line, "PID %d", &pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child said %q", line)
	}
	if !alive(pid) {
		t.Fatalf("dynalite %d not running in child", pid)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	for i := 0; alive(pid) && i < 200; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(pid) {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatalf("dynalite %d outlived the killed test binary", pid)
	}
}
