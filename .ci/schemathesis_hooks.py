# Loaded by schemathesis (SCHEMATHESIS_HOOKS, set in .ci/run).
import schemathesis

# tus 1.0 bodies are raw bytes at an offset: serialise them as schemathesis does application/octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
