// Measures aws-jwt-verify (the reference verifier) on the tokens the Go
// benchmarks use, on the same machine and in the same run (see
// BenchmarkAWSJWTVerify in decision_bench_test.go).
//
// Input on stdin: {"issuer", "audience", "jwks", "fresh": [token...], "repeated": token, "ms"}.
// Output on stdout: {"fresh_ns_per_op", "repeated_ns_per_op", "fresh_ops", "repeated_ops"}.
import { readFileSync } from "node:fs";
import { JwtVerifier } from "aws-jwt-verify";

const input = JSON.parse(readFileSync(0, "utf8"));
const verifier = JwtVerifier.create({
  issuer: input.issuer,
  audience: input.audience,
  jwksUri: input.issuer + "/.well-known/jwks.json",
});
verifier.cacheJwks(JSON.parse(input.jwks));

// Run verifySync over tokens (cycling) for at least ms milliseconds.
function measure(tokens, ms) {
  for (let i = 0; i < 200; i++) verifier.verifySync(tokens[i % tokens.length]); // warm up the JIT
  const budget = BigInt(ms) * 1000000n;
  const start = process.hrtime.bigint();
  let ops = 0;
  let elapsed = 0n;
  do {
    for (let i = 0; i < 100; i++) verifier.verifySync(tokens[(ops + i) % tokens.length]);
    ops += 100;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return { ns: Number(elapsed) / ops, ops };
}

const ms = input.ms || 1000;
const fresh = measure(input.fresh, ms);
const repeated = measure([input.repeated], ms);
process.stdout.write(JSON.stringify({
  fresh_ns_per_op: fresh.ns,
  repeated_ns_per_op: repeated.ns,
  fresh_ops: fresh.ops,
  repeated_ops: repeated.ops,
}) + "\n");
