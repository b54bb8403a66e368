package keys

import (
	"context"
	"fmt"

	"github.com/shortfuse/shortfuse/shared/secret"
)

// SSMAPI is the part of *ssm.Client that Load uses.
type SSMAPI = secret.SSMAPI

// SecretsAPI is the part of *secretsmanager.Client that Load uses.
type SecretsAPI = secret.SecretsAPI

// Fetchers are the AWS clients Load may need; a nil client is fine when its
// source is not used.
type Fetchers = secret.Fetchers

// Load reads a key document from source and parses it with [ParseSet].
// Sources:
//
//	file:PATH            a file
//	env:VAR              the value of the environment variable VAR
//	ssm:NAME             an SSM SecureString parameter, decrypted
//	secretsmanager:ID    a Secrets Manager secret (name or ARN)
//
// Errors name the source but never include key material.
func Load(ctx context.Context, source string, activeKID string, f Fetchers) (*Set, error) {
	data, err := read(ctx, source, f)
	if err != nil {
		return nil, err
	}
	set, err := ParseSet(data, activeKID)
	if err != nil {
		return nil, fmt.Errorf("%w (source %s)", err, source)
	}
	return set, nil
}

func read(ctx context.Context, source string, f Fetchers) ([]byte, error) {
	b, err := secret.Read(ctx, source, f, maxDocument)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return b, nil
}
