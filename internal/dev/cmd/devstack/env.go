package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Env is what functions, services and setups learn about the running stack.
type Env struct {
	Region          string
	Table           string // DynamoDB table name; created by a setup
	DynamoEndpoint  string
	CognitoEndpoint string
	UserPoolID      string
	ClientID        string
	Issuer          string // iss of cognito-local's tokens
	JWKSURL         string
	SESEndpoint     string
	SESWebURL       string // page listing the mail sent
	LambdaInvokeURL string // base URL of the dev Lambda host (an SDK BaseEndpoint)
	TokenServiceURL string // "" until a "tokensvc" service is registered
	APIGatewayURL   string // "" until a "gateway" service is registered
	DemoURL         string // "" until a "demo" service is registered
	ServiceURLs     map[string]string
	// AWS has static dummy credentials and Region; set BaseEndpoint per client.
	AWS aws.Config
}

// DemoOrigin is the demo page's origin, "" without a demo service.
func (e Env) DemoOrigin() string {
	return strings.TrimSuffix(e.DemoURL, "/")
}

// endpoints is the JSON written to .devstack/endpoints.json.
type endpoints struct {
	Region          string            `json:"region"`
	Table           string            `json:"table"`
	DynamoEndpoint  string            `json:"dynamodb_endpoint"`
	CognitoEndpoint string            `json:"cognito_endpoint"`
	UserPoolID      string            `json:"user_pool_id"`
	ClientID        string            `json:"client_id"`
	Issuer          string            `json:"issuer"`
	JWKSURL         string            `json:"jwks_url"`
	SESEndpoint     string            `json:"ses_endpoint"`
	SESWebURL       string            `json:"ses_web_url"`
	LambdaInvokeURL string            `json:"lambda_invoke_url"`
	TokenServiceURL string            `json:"token_service_url"`
	APIGatewayURL   string            `json:"api_gateway_url,omitempty"`
	DemoURL         string            `json:"demo_url,omitempty"`
	Services        map[string]string `json:"services,omitempty"`
	PID             int               `json:"pid"`
}

func writeEndpoints(path string, env Env) error {
	b, err := json.MarshalIndent(endpoints{
		Region:          env.Region,
		Table:           env.Table,
		DynamoEndpoint:  env.DynamoEndpoint,
		CognitoEndpoint: env.CognitoEndpoint,
		UserPoolID:      env.UserPoolID,
		ClientID:        env.ClientID,
		Issuer:          env.Issuer,
		JWKSURL:         env.JWKSURL,
		SESEndpoint:     env.SESEndpoint,
		SESWebURL:       env.SESWebURL,
		LambdaInvokeURL: env.LambdaInvokeURL,
		TokenServiceURL: env.TokenServiceURL,
		APIGatewayURL:   env.APIGatewayURL,
		DemoURL:         env.DemoURL,
		Services:        env.ServiceURLs,
		PID:             os.Getpid(),
	}, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), ".endpoints.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
