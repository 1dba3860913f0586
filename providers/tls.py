"""One TLS client context per process, for every httpx client the platform makes.

httpx builds a new `SSLContext` for each client, loading the whole CA bundle: 15–60 ms of CPU a
client, measured on this project's two-core machine. The platform makes a client per outbound
call (a service template's request, an assistant tool's call to the platform's API, a learned
API's call), so it shares one context instead: httpx's own default (`SSL_CERT_FILE` or
`SSL_CERT_DIR` when set, else certifi's bundle), verification and hostname checks on."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
