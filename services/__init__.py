"""Use cases over the domain rules and storage: no Flask, no request."""
