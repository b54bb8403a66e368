package testenv

import (
	"io"
	"time"
)

// DefaultStartTimeout bounds how long a Start function waits for an emulator
// to answer its health check, unless the context ends first.
const DefaultStartTimeout = 60 * time.Second

// Option adjusts how an emulator is started.
type Option func(*settings)

type settings struct {
	port    int
	output  io.Writer
	dataDir string
	persist bool
}

func newSettings(opts []Option) settings {
	var s settings
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	return s
}

// WithPort listens on a fixed port instead of a free one; starting fails if
// the port is taken.
func WithPort(port int) Option { return func(s *settings) { s.port = port } }

// WithOutput copies the emulator's stdout and stderr to w.
func WithOutput(w io.Writer) Option { return func(s *settings) { s.output = w } }

// WithDataDir keeps the emulator's state in dir, which the caller owns:
// dynalite data then survives Stop and Start, and cognito-local reuses the
// user pool and app client found there.
func WithDataDir(dir string) Option { return func(s *settings) { s.dataDir = dir } }

// Persistent keeps dynalite's data in a temporary directory so it survives
// Stop and Start; Close removes it. Other emulators ignore it.
func Persistent() Option { return func(s *settings) { s.persist = true } }
