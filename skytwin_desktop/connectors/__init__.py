"""Google connectors: OAuth with the keyring, polling Gmail and Calendar, and the health and
circuit-breaker logic that makes a revoked token loud instead of silent."""
