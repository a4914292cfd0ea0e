#!/usr/bin/env bash
# Sign a person in with curl, as a browser would through an application: the authorization-code flow with
# PKCE (S256). Prints the access token. A real application sends the person's browser to the authorization
# URL (step 2) and receives the code at its redirect URI; this script posts the sign-in form itself.
#
#     docs/examples/sign_in.sh http://127.0.0.1:8080 demo.json drafter      # or admin, submitter, reviewer
#
# CI runs this against its live server, so it stays true.
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
DEMO=${2:-demo.json}
WHO=${3:-drafter}                                  # the demo person: their email starts with it
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$DEMO" "$1"; }
APP_ID=$(field integrator_app_id)                  # the application the person signs in through
REDIRECT_URI=$(field redirect_uri)                 # registered for it, exactly
read -r EMAIL PASSWORD < <(python3 -c '
import json, sys
person = next(u for u in json.load(open(sys.argv[1]))["users"] if u["email"].startswith(sys.argv[2] + "."))
print(person["email"], person["password"])' "$DEMO" "$WHO")

# 1. PKCE: a random verifier, kept by the application; its SHA-256 (base64url, no padding) is the challenge.
VERIFIER=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
CHALLENGE=$(printf '%s' "$VERIFIER" | python3 -c 'import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).rstrip(b"=").decode())')
STATE=$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')

# 2. The authorization request. In a browser, the person opens this URL and sees the sign-in and consent page:
#    $BASE/v1/oauth/authorize?response_type=code&client_id=$APP_ID&redirect_uri=...&scope=...
#        &state=$STATE&code_challenge=$CHALLENGE&code_challenge_method=S256
SCOPE="org:read notifications:read notifications:write notifications:submit documents:read documents:write \
  registrations:read registrations:write registrations:submit"

# 3. The page's form, posted as the person's browser would: the same parameters, their email and password,
#    and their consent. The answer is 303 to the redirect URI with ?code=…&state=….
LOCATION=$(curl -sS -o /dev/null -w '%{redirect_url}' "$BASE/v1/oauth/authorize" \
  --data-urlencode response_type=code --data-urlencode "client_id=$APP_ID" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" --data-urlencode "scope=$SCOPE" --data-urlencode "state=$STATE" \
  --data-urlencode "code_challenge=$CHALLENGE" --data-urlencode code_challenge_method=S256 \
  --data-urlencode "email=$EMAIL" --data-urlencode "password=$PASSWORD" --data-urlencode decision=allow)
CODE=$(python3 -c 'import sys,urllib.parse as u; q=u.parse_qs(u.urlsplit(sys.argv[1]).query); assert q["state"][0]==sys.argv[2], "state changed"; print(q["code"][0])' "$LOCATION" "$STATE")

# 4. The exchange: the code (single use, 2 minutes) and the verifier for tokens. A public application names
#    itself with client_id; a confidential one authenticates as at client credentials.
curl -sS "$BASE/v1/oauth/token" -d grant_type=authorization_code --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$REDIRECT_URI" --data-urlencode "client_id=$APP_ID" \
  --data-urlencode "code_verifier=$VERIFIER" |
  python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["access_token"])'
