"""Gateway metrics (names are the dashboard's contract)."""

from prometheus_client import Counter

AUTH_FAILURES = Counter("cliplens_gateway_auth_failures", "Calls refused by authentication "
                        "or authorization.", ["reason"])
RATE_LIMITED = Counter("cliplens_gateway_rate_limited", "Calls refused by a rate limit.",
                       ["key"])
UPSTREAM_ERRORS = Counter("cliplens_gateway_upstream_errors", "Errors answered by peers.",
                          ["service", "code"])
RETRIES = Counter("cliplens_gateway_retries", "Calls retried after UNAVAILABLE.", ["service"])
