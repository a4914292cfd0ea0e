#!/usr/bin/env python3
"""Prints an access token for a person, signed in through a public application with PKCE, as a browser would:
the authorization request, the sign-in form, the code at the redirect, the exchange. For CI's schemathesis runs,
which fuzz each operation as a principal allowed to call it.

    sign_in.py BASE_URL APP_ID REDIRECT_URI EMAIL   (the password on standard input)
"""

import base64
import hashlib
import json
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
    request = urllib.request.Request(f"{base}/v1/oauth/authorize", data=urllib.parse.urlencode(form).encode())
    try:
        opener.open(request)
        print("sign-in did not redirect", file=sys.stderr)
        return 1
    except urllib.error.HTTPError as answer:
        if answer.code != 303:
            print(f"sign-in failed for {email}: {answer.code} {answer.read().decode()}", file=sys.stderr)
            return 1
        location = answer.headers["location"]
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


if __name__ == "__main__":
    sys.exit(main())
