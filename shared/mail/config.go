package mail

import (
	"time"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/config"
)

// Config is the mail settings shared by every function that sends email.
type Config struct {
	From             string        // SHORTFUSE_MAIL_FROM (required)
	ConfigurationSet string        // SHORTFUSE_MAIL_CONFIGURATION_SET
	ReplyTo          []string      // SHORTFUSE_MAIL_REPLY_TO
	Timeout          time.Duration // SHORTFUSE_MAIL_TIMEOUT (default 2s)
}

// LoadConfig reads the mail settings; problems are recorded in env.
func LoadConfig(env *config.Env) Config {
	c := Config{
		From:             env.Required("SHORTFUSE_MAIL_FROM"),
		ConfigurationSet: env.String("SHORTFUSE_MAIL_CONFIGURATION_SET", ""),
		ReplyTo:          env.List("SHORTFUSE_MAIL_REPLY_TO", nil),
		Timeout:          env.Duration("SHORTFUSE_MAIL_TIMEOUT", awsx.CallTimeout, 100*time.Millisecond, 4*time.Second),
	}
	if c.From != "" {
		if err := CheckFrom(c.From); err != nil {
			env.Fail("SHORTFUSE_MAIL_FROM", "%v", err)
		}
	}
	for _, a := range c.ReplyTo {
		if err := CheckAddress(a); err != nil {
			env.Fail("SHORTFUSE_MAIL_REPLY_TO", "%v", err)
		}
	}
	return c
}

// New returns an SES sender for c.
func (c Config) New(api API) (*SES, error) {
	opts := []Option{WithTimeout(c.Timeout)}
	if c.ConfigurationSet != "" {
		opts = append(opts, WithConfigurationSet(c.ConfigurationSet))
	}
	if len(c.ReplyTo) > 0 {
		opts = append(opts, WithReplyTo(c.ReplyTo...))
	}
	return NewSES(api, c.From, opts...)
}
