package config

import (
	"fmt"
	"log/slog"
	"strings"
)

// Common are the settings every function shares. One Env reads them once,
// on first use (Env.Common), and keeps them: the start-up code builds its
// logger from them and each function's loader takes its AWS settings from
// the same values.
type Common struct {
	// LogLevel is SHORTFUSE_LOG_LEVEL: debug, info (default), warn or error;
	// anything else is an error.
	LogLevel slog.Level
	// Region is SHORTFUSE_AWS_REGION; "" leaves the region to the SDK's
	// chain (AWS_REGION, ...).
	Region string
	// Endpoint is SHORTFUSE_AWS_ENDPOINT: every AWS call goes there (the
	// local stack); "" in AWS.
	Endpoint string
	// DynamoDBEndpoint, SESEndpoint and CognitoEndpoint override Endpoint
	// for one service (SHORTFUSE_DYNAMODB_ENDPOINT, SHORTFUSE_SES_ENDPOINT,
	// SHORTFUSE_COGNITO_ENDPOINT); each defaults to Endpoint.
	DynamoDBEndpoint string
	SESEndpoint      string
	CognitoEndpoint  string
}

// Names of the common settings.
const (
	VarLogLevel         = "SHORTFUSE_LOG_LEVEL"
	VarRegion           = "SHORTFUSE_AWS_REGION"
	VarEndpoint         = "SHORTFUSE_AWS_ENDPOINT"
	VarDynamoDBEndpoint = "SHORTFUSE_DYNAMODB_ENDPOINT"
	VarSESEndpoint      = "SHORTFUSE_SES_ENDPOINT"
	VarCognitoEndpoint  = "SHORTFUSE_COGNITO_ENDPOINT"
	VarTable            = "SHORTFUSE_TABLE"
)

// Common returns the common settings, reading them on the first call;
// problems are recorded in e once.
func (e *Env) Common() Common {
	if e.common != nil {
		return *e.common
	}
	c := Common{
		LogLevel: e.LogLevel(VarLogLevel, slog.LevelInfo),
		Region:   e.String(VarRegion, ""),
		Endpoint: e.URL(VarEndpoint, ""),
	}
	c.DynamoDBEndpoint = e.URL(VarDynamoDBEndpoint, c.Endpoint)
	c.SESEndpoint = e.URL(VarSESEndpoint, c.Endpoint)
	c.CognitoEndpoint = e.URL(VarCognitoEndpoint, c.Endpoint)
	e.common = &c
	return c
}

// AnyEndpoint reports the endpoint override in effect for some service:
// Endpoint, else the first per-service override; "" in AWS.
func (c Common) AnyEndpoint() string {
	for _, ep := range []string{c.Endpoint, c.DynamoDBEndpoint, c.SESEndpoint, c.CognitoEndpoint} {
		if ep != "" {
			return ep
		}
	}
	return ""
}

// Table returns SHORTFUSE_TABLE, the DynamoDB table of the functions that
// use one, and records an error when it is not set; read once per Env.
func (e *Env) Table() string {
	if !e.tableRead {
		e.table, e.tableRead = e.Required(VarTable), true
	}
	return e.table
}

// LogLevel returns the variable as a log level (debug, info, warn or
// error, in any case), or def.
func (e *Env) LogLevel(name string, def slog.Level) slog.Level {
	v, ok := e.get(name)
	if !ok {
		return def
	}
	l, err := ParseLogLevel(v)
	if err != nil {
		e.Fail(name, "%v", err)
		return def
	}
	return l
}

// ParseLogLevel parses debug, info, warn or error, in any case.
func ParseLogLevel(v string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("%q is not one of debug, info, warn, error", v)
}
