package testenv

import (
	"context"
	"testing"
)

// The Start benchmarks measure how long a test waits for each emulator,
// start to ready plus Stop.

func BenchmarkStartDynalite(b *testing.B) {
	for b.Loop() {
		d, err := StartDynalite(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		_ = d.Close()
	}
}

func BenchmarkStartCognitoLocal(b *testing.B) {
	for b.Loop() {
		c, err := StartCognitoLocal(context.Background(), CognitoOptions{})
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Stop()
	}
}

func BenchmarkStartSESLocal(b *testing.B) {
	for b.Loop() {
		s, err := StartSESLocal(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Stop()
	}
}
