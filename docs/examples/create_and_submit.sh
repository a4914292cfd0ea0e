#!/usr/bin/env bash
# Create and submit a serious-injury notification in one call, as care-management software, then verify the
# receipt offline. Copy-paste as it is: it needs curl and python3 (with `cryptography` for the last step).
#
#     cargo run -p provider-api -- demo --json > demo.json    # once: a demo provider and its API client
#     cargo run -p provider-api                               # in another terminal
#     docs/examples/create_and_submit.sh http://127.0.0.1:8080 demo.json
#
# CI runs this against its live server, so it stays true.
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
DEMO=${2:-demo.json}
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$DEMO" "$1"; }
CLIENT_ID=$(field client_id); CLIENT_SECRET=$(field client_secret)
ORGANISATION_ID=$(field organisation_id); LOCATION_ID=$(field location_id)

# 1. An access token for the API client (client credentials; it lasts 15 minutes).
TOKEN=$(curl -sf -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/v1/oauth/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# 2. Create and submit. The Idempotency-Key makes a retry safe: the same key and body return the same receipt.
#    People using the service are identified by your own identifier for them, never by name.
KEY=$(python3 -c 'import uuid; print(uuid.uuid4())')
curl -sS -X POST "$BASE/v1/organisations/$ORGANISATION_ID/notification-submissions" \
  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -H "Idempotency-Key: $KEY" \
  -o submitted.json -w '%{http_code}\n' -d @- <<JSON
{
  "location_id": "$LOCATION_ID",
  "content": {
    "type": "serious_injury",
    "reporter": {
      "completed_by": {"name": "Sam Carter", "role": "Deputy manager"},
      "contact": {"name": "Sam Carter", "role": "Deputy manager", "phone": "020 7946 0000",
                  "email": "sam.carter@riverside.example"},
      "regulated_activities": ["personal_care"]
    },
    "person": {"identifier": "RES-0042", "age_band": "85+"},
    "occurred_at": "2026-11-20T14:05:00Z",
    "description": "Fell in the lounge and fractured a hip.",
    "categories": ["fracture", "prolonged_pain"],
    "known_to_be_at_risk": true,
    "mitigations_in_place": "Falls sensor and hourly checks.",
    "immediate_actions": "Ambulance called."
  }
}
JSON
python3 -c 'import json; r=json.load(open("submitted.json")); print(r["status"], r["receipt"]["reference"])'

# 3. Verify the receipt against the regulator's receipt keys (docs/receipts.md).
JWS=$(python3 -c 'import json; print(json.load(open("submitted.json"))["receipt"]["jws"])')
python3 "$(dirname "$0")/verify_receipt.py" "$BASE" "$JWS"
