// Command tokensvc runs the token service as an AWS Lambda function behind an
// API Gateway HTTP API (payload format 2.0).
//
// Configuration, AWS clients, the signing keys and Cognito's public keys are
// loaded once, at init; a configuration error stops the cold start with every
// problem listed. Outside Lambda, with SHORTFUSE_HTTP_ADDR set (for example
// ":8080"), the same handler is served as a plain HTTP server.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/httpapi"
	"github.com/shortfuse/shortfuse/shared/jwtverify"
	"github.com/shortfuse/shortfuse/shared/keys"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/secret"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/tokensvc"
)

var _ tokensvc.Storage = (*store.Store)(nil)

func main() {
	log := obs.Default()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	svc, cfg, err := build(ctx, config.FromOS(), log)
	cancel()
	if err != nil {
		log.Error("tokensvc init failed", "error", err.Error())
		os.Exit(1)
	}
	if addr := os.Getenv("SHORTFUSE_HTTP_ADDR"); addr != "" && os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		srv := newHTTPServer(addr, svc)
		log.Info("tokensvc listening", "addr", addr)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("tokensvc server failed", "error", err.Error())
			os.Exit(1)
		}
		return
	}
	adapter := httpapi.New(svc,
		httpapi.WithMaxBodyBytes(int(cfg.MaxBodyBytes)),
		httpapi.WithErrorFunc(tokensvc.WriteAdapterError))
	lambda.StartHandlerFunc(adapter.Handle)
}

// newHTTPServer serves h outside Lambda, with limits close to API Gateway's.
func newHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10,
	}
}

// build reads the configuration and constructs the service.
func build(ctx context.Context, env *config.Env, log *slog.Logger) (*tokensvc.Service, tokensvc.Config, error) {
	cfg, err := tokensvc.LoadConfig(env)
	if err != nil {
		return nil, cfg, err
	}
	awsCfg, err := awsx.Load(ctx, awsx.Options{Endpoint: cfg.AWSEndpoint})
	if err != nil {
		return nil, cfg, err
	}
	ssmClient, secretsClient := ssm.NewFromConfig(awsCfg), secretsmanager.NewFromConfig(awsCfg)
	ks, err := keys.Load(ctx, cfg.SigningKey, cfg.SigningKID, keys.Fetchers{SSM: ssmClient, Secrets: secretsClient})
	if err != nil {
		return nil, cfg, err
	}
	var nonceKey []byte
	if cfg.DPoPNonceKey != "" {
		nonceKey, err = secret.Read(ctx, cfg.DPoPNonceKey, secret.Fetchers{SSM: ssmClient, Secrets: secretsClient}, 4096)
		if err != nil {
			return nil, cfg, fmt.Errorf("SHORTFUSE_DPOP_NONCE_KEY: %w", err)
		}
	}
	cognitoKeys := jwtverify.NewRemoteJWKS(cfg.CognitoJWKSURL, jwtverify.RemoteOptions{})
	// A failed warm-up is not fatal: the first exchange fetches again, and
	// until then exchanges answer 503.
	if err := cognitoKeys.Prefetch(ctx); err != nil {
		log.Warn("cognito jwks prefetch failed", "error", err.Error())
	}
	opts := []tokensvc.Option{tokensvc.WithLogger(log), tokensvc.WithCognitoKeys(cognitoKeys),
		tokensvc.WithMetrics(obs.NewCounter(os.Stdout, "tokensvc"))}
	if nonceKey != nil {
		opts = append(opts, tokensvc.WithDPoPNonceKey(nonceKey))
	}
	if cfg.UserPoolID != "" {
		cog := cognitoidentityprovider.NewFromConfig(awsCfg)
		opts = append(opts, tokensvc.WithSignOut(cog), tokensvc.WithCognitoUsers(cog))
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, store.WithRevocationLayout(cfg.RevocationLayout))
	svc, err := tokensvc.New(cfg, st, ks, opts...)
	return svc, cfg, err
}
