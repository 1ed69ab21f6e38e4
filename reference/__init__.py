"""The reference implementation: TLS adapter, key schedule, wire codec, RFC 9261, attestation."""
