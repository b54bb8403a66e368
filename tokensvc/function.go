package tokensvc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/function"
	"github.com/shortfuse/shortfuse/shared/httpapi"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/secret"
	"github.com/shortfuse/shortfuse/shared/store"
)

var _ Storage = (*store.Store)(nil)

// InitTimeout bounds the AWS calls and the JWK Set fetch of a cold start,
// Lambda's init phase.
const InitTimeout = 10 * time.Second

// Deps replace what Open would otherwise build from the configuration.
type Deps struct {
	// Keys are the signing keys; nil loads SHORTFUSE_SIGNING_KEY. The local
	// stack passes a key generated for the run.
	Keys *keys.Set
	// RequireCognitoKeys makes a failed fetch of Cognito's JWK Set at init
	// an error instead of a warning (the local stack, whose cognito-local
	// is up by then).
	RequireCognitoKeys bool
}

// Function is the token service's constructor (see package function): the
// service behind the API Gateway HTTP API (payload format 2.0) adapter.
// Outside Lambda, with SHORTFUSE_HTTP_ADDR set (":8080", say), function.Run
// serves the same service as a plain HTTP server instead.
func Function(ctx context.Context, in function.Input) (function.Handler, error) {
	addr := in.Env.String("SHORTFUSE_HTTP_ADDR", "")
	svc, cfg, err := Open(ctx, in, Deps{})
	if err != nil {
		return nil, err
	}
	adapter := httpapi.New(svc,
		httpapi.WithMaxBodyBytes(int(cfg.MaxBodyBytes)),
		httpapi.WithErrorFunc(WriteAdapterError))
	h := handler{Handler: lambda.NewHandler(adapter.Handle)}
	if addr != "" {
		h.srv = NewHTTPServer(addr, svc)
	}
	return h, nil
}

// handler is the Lambda handler, and the plain HTTP server when one is
// configured.
type handler struct {
	lambda.Handler
	srv *http.Server
}

// HTTPServer is the plain HTTP server, nil without SHORTFUSE_HTTP_ADDR.
func (h handler) HTTPServer() *http.Server { return h.srv }

// ListenAddr and ListenAndServe make the handler a function.Server.
func (h handler) ListenAddr() string {
	if h.srv == nil {
		return ""
	}
	return h.srv.Addr
}

func (h handler) ListenAndServe() error {
	if err := h.srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// NewHTTPServer serves h outside Lambda, with limits close to API Gateway's.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10,
	}
}

// Open reads the configuration from in.Env and builds the service with its
// AWS clients, signing keys and Cognito's public keys, within InitTimeout.
func Open(ctx context.Context, in function.Input, deps Deps) (*Service, Config, error) {
	cfg, err := LoadConfig(in.Env)
	if err != nil {
		return nil, cfg, err
	}
	ctx, cancel := context.WithTimeout(ctx, InitTimeout)
	defer cancel()
	awsCfg, err := awsx.ForFunction(ctx, cfg.Common)
	if err != nil {
		return nil, cfg, err
	}
	ssmClient, secretsClient := ssm.NewFromConfig(awsCfg), secretsmanager.NewFromConfig(awsCfg)
	ks := deps.Keys
	if ks == nil {
		if ks, err = keys.Load(ctx, cfg.SigningKey, cfg.SigningKID, keys.Fetchers{SSM: ssmClient, Secrets: secretsClient}); err != nil {
			return nil, cfg, err
		}
	}
	var nonceKey []byte
	if cfg.DPoPNonceKey != "" {
		nonceKey, err = secret.Read(ctx, cfg.DPoPNonceKey, secret.Fetchers{SSM: ssmClient, Secrets: secretsClient}, 4096)
		if err != nil {
			return nil, cfg, fmt.Errorf("SHORTFUSE_DPOP_NONCE_KEY: %w", err)
		}
	}
	// One key set per Cognito issuer: a pool's keys verify its own tokens
	// only.
	cognitoKeys := make(map[string]jwtverify.KeySource, len(cfg.CognitoIssuers))
	for _, is := range cfg.CognitoIssuers {
		r := jwtverify.NewRemoteJWKS(is.JWKSURL, jwtverify.RemoteOptions{})
		// A failed warm-up is not fatal: the first exchange fetches again,
		// and until then exchanges answer 503.
		if err := r.Prefetch(ctx); err != nil {
			if deps.RequireCognitoKeys {
				return nil, cfg, fmt.Errorf("cognito JWK Set %s: %w", is.JWKSURL, err)
			}
			in.Log.Warn("cognito jwks prefetch failed", "url", is.JWKSURL, "error", err.Error())
		}
		cognitoKeys[is.URL] = r
	}
	opts := []Option{WithLogger(in.Log), WithIssuerKeys(cognitoKeys), WithMetrics(in.Metrics)}
	if nonceKey != nil {
		opts = append(opts, WithDPoPNonceKey(nonceKey))
	}
	if cfg.UserPoolID != "" {
		cog := cognitoidentityprovider.NewFromConfig(awsCfg, func(o *cognitoidentityprovider.Options) {
			if ep := awsx.BaseEndpoint(cfg.Common.CognitoEndpoint); ep != nil {
				o.BaseEndpoint = ep
			}
		})
		opts = append(opts, WithSignOut(cog), WithCognitoUsers(cog))
	}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if ep := awsx.BaseEndpoint(cfg.Common.DynamoDBEndpoint); ep != nil {
			o.BaseEndpoint = ep
		}
	})
	st := store.New(db, cfg.Table, store.WithRevocationLayout(cfg.RevocationLayout))
	svc, err := New(cfg, st, ks, opts...)
	return svc, cfg, err
}
