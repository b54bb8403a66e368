// Package obs holds the logging and metrics conventions shared by every function.
//
// Logs are JSON through log/slog. A token or a secret never reaches a log:
// callers log TokenID(token) instead, a short hash that lets an operator
// correlate entries without being able to replay anything. As a safety net,
// the loggers of this package also replace anything shaped like a token in
// the message, string attributes and errors with "[redacted]" (see Redact).
package obs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// New returns a JSON logger writing to w at level. Tokens in its records
// are redacted (see Redact).
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redactAttr}))
}

// NewLogger is New with the level named ("debug", "info", "warn",
// "error"; anything else means info), for tests and tools. Functions read
// SHORTFUSE_LOG_LEVEL through package config, which refuses an unknown
// name.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return New(w, l)
}

// TokenID returns a short, non-reversible identifier for a token or secret,
// safe to log: the first 12 hex characters of its SHA-256.
func TokenID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

// MaxClip is how many bytes of a client-supplied string Clip keeps.
const MaxClip = 128

// Clip bounds a client-supplied string (a user name, a trigger source)
// before it reaches a log line, so that a caller cannot make one line
// arbitrarily long.
func Clip(s string) string {
	if len(s) > MaxClip {
		return s[:MaxClip]
	}
	return s
}

// Metric writes one CloudWatch Embedded Metric Format record to w, so that
// Lambda's log stream becomes a metric without any API call on the hot path.
func Metric(w io.Writer, namespace, name string, value float64, unit string, dims map[string]string) {
	keys := make([]string, 0, len(dims))
	rec := map[string]any{}
	for k, v := range dims {
		keys = append(keys, k)
		rec[k] = v
	}
	slices.Sort(keys)
	rec[name] = value
	rec["_aws"] = map[string]any{
		"Timestamp": time.Now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    []any{map[string]string{"Name": name, "Unit": unit}},
		}},
	}
	b, _ := json.Marshal(rec)
	_, _ = w.Write(append(b, '\n'))
}

// Namespace is the CloudWatch namespace of every shortfuse metric.
const Namespace = "shortfuse"

// Counter writes counts of one function's events as EMF records, one line
// each. A nil *Counter counts nothing, so tests and the local stack can
// leave it out. It is safe for concurrent use.
type Counter struct {
	mu       sync.Mutex // one record per Write, never interleaved
	w        io.Writer
	function string
}

// NewCounter returns a Counter writing to w (os.Stdout in Lambda, where
// the log stream carries EMF records to CloudWatch) with dimension
// Function=function.
func NewCounter(w io.Writer, function string) *Counter {
	return &Counter{w: w, function: function}
}

// Count records one event as metric name, with dimensions Function and
// dim=value, in Namespace.
func (c *Counter) Count(name, dim, value string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	Metric(c.w, Namespace, name, 1, "Count", map[string]string{"Function": c.function, dim: value})
}
