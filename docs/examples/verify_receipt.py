"""Verifies a receipt's signature against the regulator's receipt keys and prints its claims.

    python3 verify_receipt.py http://127.0.0.1:8080 "$JWS"

Needs only the `cryptography` package. docs/receipts.md explains the claims.
"""
import base64, json, sys, urllib.request
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

def b64(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

base_url, jws = sys.argv[1], sys.argv[2]          # e.g. http://127.0.0.1:8080  eyJhbGciOiJFUzI1NiIs...
keys = json.load(urllib.request.urlopen(base_url + "/.well-known/receipt-keys.json"))["keys"]
head, body, signature = jws.split(".")
header = json.loads(b64(head))
assert header["alg"] == "ES256" and header["typ"] in ("notification-receipt+jwt", "registration-receipt+jwt")
jwk = next(k for k in keys if k["kid"] == header["kid"])
key = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(jwk["x"]), "big"), int.from_bytes(b64(jwk["y"]), "big"),
                                   ec.SECP256R1()).public_key()
raw = b64(signature)                               # JWS ES256 signatures are r || s, 32 bytes each
der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
key.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))   # raises InvalidSignature if changed
print(json.dumps(json.loads(b64(body)), indent=2))
