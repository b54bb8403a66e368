package config

import (
	"log/slog"
	"strings"
	"testing"
)

func TestCommon(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]string
		want Common
		errs []string // variables the error must name, in order; none: no error
	}{
		{name: "defaults", want: Common{LogLevel: slog.LevelInfo}},
		{name: "every setting", vars: map[string]string{
			"SHORTFUSE_LOG_LEVEL": "DEBUG", "SHORTFUSE_AWS_REGION": "eu-west-1", "SHORTFUSE_AWS_ENDPOINT": "http://127.0.0.1:1",
			"SHORTFUSE_SES_ENDPOINT": "http://127.0.0.1:2",
		}, want: Common{LogLevel: slog.LevelDebug, Region: "eu-west-1", Endpoint: "http://127.0.0.1:1",
			DynamoDBEndpoint: "http://127.0.0.1:1", SESEndpoint: "http://127.0.0.1:2", CognitoEndpoint: "http://127.0.0.1:1"}},
		{name: "per-service endpoints alone", vars: map[string]string{"SHORTFUSE_DYNAMODB_ENDPOINT": "http://127.0.0.1:3", "SHORTFUSE_COGNITO_ENDPOINT": "http://127.0.0.1:4"},
			want: Common{DynamoDBEndpoint: "http://127.0.0.1:3", CognitoEndpoint: "http://127.0.0.1:4"}},
		{name: "levels", vars: map[string]string{"SHORTFUSE_LOG_LEVEL": " warn "}, want: Common{LogLevel: slog.LevelWarn}},
		{name: "unknown log level", vars: map[string]string{"SHORTFUSE_LOG_LEVEL": "verbose"}, want: Common{},
			errs: []string{"SHORTFUSE_LOG_LEVEL"}},
		{name: "slog offsets are not levels", vars: map[string]string{"SHORTFUSE_LOG_LEVEL": "info+2"}, errs: []string{"SHORTFUSE_LOG_LEVEL"}},
		{name: "bad endpoints", vars: map[string]string{"SHORTFUSE_AWS_ENDPOINT": "localhost:8000", "SHORTFUSE_DYNAMODB_ENDPOINT": "ftp://x", "SHORTFUSE_SES_ENDPOINT": "/ses", "SHORTFUSE_COGNITO_ENDPOINT": "http://"},
			errs: []string{"SHORTFUSE_AWS_ENDPOINT", "SHORTFUSE_DYNAMODB_ENDPOINT", "SHORTFUSE_SES_ENDPOINT", "SHORTFUSE_COGNITO_ENDPOINT"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := FromMap(c.vars)
			got := env.Common()
			if again := env.Common(); again != got {
				t.Errorf("second read %+v, first %+v", again, got)
			}
			err := env.Err()
			if len(c.errs) == 0 {
				if err != nil || got != c.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; got %+v", got)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(c.errs) {
				t.Fatalf("%d errors (each reported once?), want %d:\n%v", len(lines), len(c.errs), err)
			}
			for i, name := range c.errs {
				if !strings.HasPrefix(lines[i], name+": ") {
					t.Errorf("error %q does not name %s", lines[i], name)
				}
			}
			if got.LogLevel != slog.LevelInfo {
				t.Errorf("a bad setting changed the level to %v", got.LogLevel)
			}
		})
	}
}

func TestTable(t *testing.T) {
	env := FromMap(map[string]string{"SHORTFUSE_TABLE": " sessions "})
	if v := env.Table(); v != "sessions" || env.Err() != nil {
		t.Fatalf("%q %v", v, env.Err())
	}
	env = FromMap(nil)
	env.Table()
	env.Table()
	if err := env.Err(); err == nil || err.Error() != "SHORTFUSE_TABLE: required but not set" {
		t.Fatalf("missing table, read twice: %v", err)
	}
}

func TestAnyEndpoint(t *testing.T) {
	for want, c := range map[string]Common{
		"":    {},
		"a":   {Endpoint: "a", DynamoDBEndpoint: "a"},
		"ses": {SESEndpoint: "ses"},
		"cog": {CognitoEndpoint: "cog"},
	} {
		if got := c.AnyEndpoint(); got != want {
			t.Errorf("%+v: %q, want %q", c, got, want)
		}
	}
}

func FuzzParseLogLevel(f *testing.F) {
	for _, s := range []string{"debug", "INFO", "warn", "error", "", "info+1", "trace"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLogLevel(s)
		if err == nil && l != slog.LevelDebug && l != slog.LevelInfo && l != slog.LevelWarn && l != slog.LevelError {
			t.Fatalf("%q -> %v", s, l)
		}
	})
}
