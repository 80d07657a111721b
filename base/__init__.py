"""What every app uses, beneath them all: text that cannot spoof, the client's address behind
the proxy, bounded admin searches. Depends on no app."""
