# Loaded by schemathesis (SCHEMATHESIS_HOOKS, set in .ci/run).
import re
import uuid

import schemathesis

# tus 1.0 bodies are raw bytes at an offset: serialise them as schemathesis does application/octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

# The published form of an Idempotency-Key (bare, or as a Structured Fields string).
KEY = re.compile(r'([!#-\[\]-~]{1,255}|"[!#-\[\]-~]{1,255}")')


@schemathesis.hook("map_headers")
def fresh_idempotency_keys(ctx, headers):
    """A client makes a new Idempotency-Key for each new request. Generated data repeats the same few keys with
    different bodies, which the API rightly refuses (422 idempotency_key_reused, as the header's description
    says); a fresh well-formed key keeps the fuzzing on the operation itself. A malformed key is left alone,
    so its refusal is still checked."""
    for name in list(headers or {}):
        if name.lower() == "idempotency-key" and KEY.fullmatch(str(headers[name])):
            headers[name] = str(uuid.uuid4())
    return headers
