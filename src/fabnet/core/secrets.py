"""The one rule for keeping secrets out of what fabnet shows: a store's address may hold a
password (`postgresql://user:password@host/db`, `?password=…`, `sslpassword=…`), and every place
that prints, logs, serves or stores an address or a message that may quote one passes it
through `redact` first."""

from __future__ import annotations

import re

#: The password of a URL's user part: scheme://user:password@host
_URL_PASSWORD = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):[^@\s]*@")
#: A password given as a parameter: ?password=…, &sslpassword=…, PGPASSWORD=… (up to the next
#: separator: &, whitespace, a quote)
_PARAMETER = re.compile(r"(\b\w*password\w*\s*=\s*)[^&\s'\"]+", re.IGNORECASE)

MASK = "***"


def redact(text: object) -> str:
    """`text` with every password it holds replaced by ***."""
    return _PARAMETER.sub(rf"\g<1>{MASK}", _URL_PASSWORD.sub(rf"\g<1>:{MASK}@", str(text)))
