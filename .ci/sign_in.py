#!/usr/bin/env python3
"""Prints an access token for a person, signed in through a public application with PKCE, as a browser would:
the authorization request, the sign-in form, the code at the redirect, the exchange. For CI's schemathesis runs,
which fuzz each operation as a principal allowed to call it.

    sign_in.py BASE_URL APP_ID REDIRECT_URI EMAIL   (the password on standard input)

Staff sign in with a second factor: at a first sign-in the script sets one up as a person's authenticator app
would (reading the setup key off the page); with TOTP_KEY set, it signs in with that key's codes.
"""

import base64
import hashlib
import hmac
import html
import json
import os
import re
import struct
import time
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main() -> int:
    base, app_id, redirect, email = sys.argv[1:5]
    password = sys.stdin.readline().rstrip("\n")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    form = {
        "response_type": "code",
        "client_id": app_id,
        "redirect_uri": redirect,
        "state": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "email": email,
        "password": password,
        "decision": "allow",
    }
    opener = urllib.request.build_opener(NoRedirect)
    key = os.environ.get("TOTP_KEY")
    location = None
    for _ in range(4):
        request = urllib.request.Request(
            f"{base}/v1/oauth/authorize", data=urllib.parse.urlencode(form).encode(), headers={"Accept": "text/html"}
        )
        try:
            page = opener.open(request).read().decode()
        except urllib.error.HTTPError as answer:
            if answer.code != 303:
                print(f"sign-in failed for {email}: {answer.code} {answer.read().decode()}", file=sys.stderr)
                return 1
            location = answer.headers["location"]
            break
        # A second-factor page: answered as an authenticator app's owner would.
        step, pending = field(page, "step"), field(page, "pending")
        if step is None:
            print(f"sign-in failed for {email}: an unexpected page", file=sys.stderr)
            return 1
        form = {k: v for k, v in form.items() if k not in ("email", "password", "code")}
        form.update(step=step, pending=pending)
        if step == "enrol":
            key = re.search(r'id="setup-key">([^<]+)<', page).group(1).replace(" ", "")
            form["code"] = totp(key)
        elif step == "verify":
            if not key:
                print(f"{email} signs in with a second factor: set TOTP_KEY to its setup key", file=sys.stderr)
                return 1
            form["code"] = totp(key)
    if location is None:
        print(f"sign-in did not finish for {email}", file=sys.stderr)
        return 1
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": app_id,
        "code_verifier": verifier,
    }
    with urllib.request.urlopen(f"{base}/v1/oauth/token", data=urllib.parse.urlencode(exchange).encode()) as answer:
        print(json.load(answer)["access_token"])
    return 0


def field(page: str, name: str):
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else None


def totp(key: str) -> str:
    """The code an authenticator app shows now (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps)."""
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    digest = hmac.new(secret, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


if __name__ == "__main__":
    sys.exit(main())
