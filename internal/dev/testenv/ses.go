package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// SES is a running aws-ses-v2-local. It accepts every sender, keeps sent
// mail in memory and shows it on a web page at Endpoint + "/".
type SES struct {
	Endpoint string // "http://127.0.0.1:<Port>"
	Port     int
	Client   *sesv2.Client

	mu   sync.Mutex
	proc *process
	http *http.Client
}

// Mail is one message the emulator accepted.
type Mail struct {
	MessageID string
	From      string
	To        []string
	CC        []string
	BCC       []string
	ReplyTo   []string
	Subject   string
	Text      string
	HTML      string
	At        time.Time // whole seconds
}

// SESLocal starts aws-ses-v2-local for the duration of the test.
func SESLocal(t testing.TB, opts ...Option) *SES {
	t.Helper()
	s, err := StartSESLocal(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("aws-ses-v2-local output:\n%s", s.Output())
		}
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// StartSESLocal starts aws-ses-v2-local and waits until it answers. The
// caller must call Stop.
func StartSESLocal(ctx context.Context, opts ...Option) (*SES, error) {
	st := newSettings(opts)
	_, cli, root, err := script("aws-ses-v2-local/dist/cli.js")
	if err != nil {
		return nil, err
	}
	sp := spec{
		name:   "aws-ses-v2-local",
		dir:    root,
		output: st.output,
		args: func(port int) []string {
			return []string{cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port)}
		},
		// No mail relay: the emulator would forward to SMTP_TRANSPORT if set.
		env:    func(int) []string { return []string{"SMTP_TRANSPORT="} },
		health: func(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/health-check" },
	}
	p, port, err := startOnPort(ctx, sp, st.port)
	if err != nil {
		return nil, err
	}
	s := &SES{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		Port:     port,
		proc:     p,
		http:     &http.Client{Timeout: 5 * time.Second},
	}
	s.Client = sesv2.NewFromConfig(AWSConfig(), func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
	})
	return s, nil
}

// Stop stops the emulator; its mail is gone.
func (s *SES) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.stop()
	}
	return nil
}

// Output returns the last lines the emulator printed.
func (s *SES) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return ""
	}
	return s.proc.output()
}

// storeMail is one entry of the emulator's GET /store reply.
type storeMail struct {
	MessageID   string   `json:"messageId"`
	From        string   `json:"from"`
	ReplyTo     []string `json:"replyTo"`
	Destination struct {
		To  []string `json:"to"`
		CC  []string `json:"cc"`
		BCC []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	} `json:"body"`
	At int64 `json:"at"`
}

// Messages returns every message sent so far, oldest first, read from the
// emulator's own store (GET /store).
func (s *SES) Messages(ctx context.Context) ([]Mail, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/store", nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("testenv: read SES store: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("testenv: read SES store: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("testenv: read SES store: status %d: %s", resp.StatusCode, body)
	}
	var store struct {
		Emails []storeMail `json:"emails"`
	}
	if err := json.Unmarshal(body, &store); err != nil {
		return nil, fmt.Errorf("testenv: decode SES store: %w", err)
	}
	mails := make([]Mail, 0, len(store.Emails))
	for _, e := range store.Emails {
		mails = append(mails, Mail{
			MessageID: e.MessageID,
			From:      e.From,
			To:        e.Destination.To,
			CC:        e.Destination.CC,
			BCC:       e.Destination.BCC,
			ReplyTo:   e.ReplyTo,
			Subject:   e.Subject,
			Text:      e.Body.Text,
			HTML:      e.Body.HTML,
			At:        time.Unix(e.At, 0),
		})
	}
	return mails, nil
}

// Clear forgets all sent mail (and templates).
func (s *SES) Clear(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint+"/clear-store", nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("testenv: clear SES store: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("testenv: clear SES store: status %d", resp.StatusCode)
	}
	return nil
}

// WaitForMail polls Messages until a message addressed to `to` (To, CC or
// BCC, case-insensitive) is there and returns the newest such message. It
// gives up when ctx ends.
func (s *SES) WaitForMail(ctx context.Context, to string) (Mail, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		mails, err := s.Messages(ctx)
		if err == nil {
			for _, m := range slices.Backward(mails) {
				if m.addressedTo(to) {
					return m, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return Mail{}, fmt.Errorf("testenv: no mail to %s: %w (last error: %v)", to, ctx.Err(), err)
			}
			return Mail{}, fmt.Errorf("testenv: no mail to %s: %w", to, ctx.Err())
		case <-tick.C:
		}
	}
}

func (m Mail) addressedTo(addr string) bool {
	for _, list := range [][]string{m.To, m.CC, m.BCC} {
		for _, a := range list {
			if strings.EqualFold(a, addr) {
				return true
			}
		}
	}
	return false
}

// Done is closed when the emulator process exits.
func (s *SES) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return doneOf(s.proc)
}
