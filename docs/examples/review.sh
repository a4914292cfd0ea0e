#!/usr/bin/env bash
# People share notifications (docs/review.md). First, the drafter prepares one and the submitter reviews it,
# approves that version and sends it. Then the submitter edits another, cannot send their own edit, and a
# colleague (the demo's second submitter, reviewer) approves it. Each signs in as themselves (sign_in.sh).
#
#     docs/examples/review.sh http://127.0.0.1:8080 demo.json
#
# CI runs this against its live server, so it stays true.
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
DEMO=${2:-demo.json}
HERE=$(dirname "$0")
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$DEMO" "$1"; }
json() { python3 -c "import json,sys; print(eval('json.load(sys.stdin)' + sys.argv[1]))" "$1"; }
ORG=$(field organisation_id); LOCATION=$(field location_id)
DRAFTER=$("$HERE/sign_in.sh" "$BASE" "$DEMO" drafter)
SUBMITTER=$("$HERE/sign_in.sh" "$BASE" "$DEMO" submitter)
REVIEWER=$("$HERE/sign_in.sh" "$BASE" "$DEMO" reviewer)
NOTIFICATIONS="$BASE/v1/organisations/$ORG/notifications"

# 1. The drafter prepares it (a draft may be incomplete; this one is whole).
ID=$(curl -sS -X POST "$NOTIFICATIONS" -H "Authorization: Bearer $DRAFTER" -H "Content-Type: application/json" \
  -H "Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')" -d @- <<JSON | json "['id']"
{"location_id": "$LOCATION", "content": {"type": "police_incident",
  "reporter": {"completed_by": {"name": "Sam Carter", "role": "Deputy manager"},
               "contact": {"name": "Sam Carter", "role": "Deputy manager", "phone": "020 7946 0000",
                           "email": "sam.carter@riverside.example"},
               "regulated_activities": ["personal_care"]},
  "occurred_at": "2026-11-20T22:00:00Z", "reported_to_police_at": "2026-11-20T22:15:00Z",
  "police_reference": "CAD 999", "description": "Intruder in the garden.",
  "immediate_actions": "Doors locked; police called."}}
JSON
)
echo "drafter saved $ID (version 1)"

# 2. A drafter cannot approve or send: 403, naming the permission they lack.
curl -sS -X POST "$NOTIFICATIONS/$ID/approval" -H "Authorization: Bearer $DRAFTER" -H 'If-Match: "1"' |
  python3 -c 'import json,sys; p=json.load(sys.stdin); print("the drafter may not approve:", p["status"], p["code"], p["permission"])'

# 3. The submitter reads it, and approves the version they read (If-Match). Approving moves the version.
VERSION=$(curl -sS "$NOTIFICATIONS/$ID" -H "Authorization: Bearer $SUBMITTER" | json "['version']")
APPROVED=$(curl -sS -X POST "$NOTIFICATIONS/$ID/approval" -H "Authorization: Bearer $SUBMITTER" \
  -H "If-Match: \"$VERSION\"" | json "['version']")
echo "submitter approved version $APPROVED"

# 4. The submitter sends the approved version, with an Idempotency-Key so a retry is safe.
curl -sS -X POST "$NOTIFICATIONS/$ID/submit" -H "Authorization: Bearer $SUBMITTER" -H "If-Match: \"$APPROVED\"" \
  -H "Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')" | json "['receipt']['reference']"

# 5. The history: who did what.
curl -sS "$NOTIFICATIONS/$ID/history" -H "Authorization: Bearer $SUBMITTER" |
  python3 -c 'import json,sys
for e in json.load(sys.stdin)["items"]:
    print(e["at"], e["action"], (e.get("by") or {}).get("user_id", ""), e.get("version", ""))'

# 6. The submitter fixes something in a new draft: they are now its last editor.
SECOND=$(curl -sS -X POST "$NOTIFICATIONS" -H "Authorization: Bearer $DRAFTER" -H "Content-Type: application/json" \
  -H "Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')" \
  -d "$(curl -sS "$NOTIFICATIONS/$ID" -H "Authorization: Bearer $DRAFTER" |
        python3 -c 'import json,sys; n=json.load(sys.stdin); print(json.dumps({"location_id": n["location_id"], "content": n["content"]}))')" |
  json "['id']")
EDITED=$(curl -sS -X PATCH "$NOTIFICATIONS/$SECOND" -H "Authorization: Bearer $SUBMITTER" -H 'If-Match: "1"' \
  -H "Content-Type: application/merge-patch+json" -d '{"content": {"police_reference": "CAD 1001"}}' | json "['version']")

# 7. Sending their own edit is refused, saying what to do; a colleague approves that version; then it goes.
curl -sS -X POST "$NOTIFICATIONS/$SECOND/submit" -H "Authorization: Bearer $SUBMITTER" -H "If-Match: \"$EDITED\"" \
  -H "Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')" |
  python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["status"], p["code"] + ":", p["detail"])'
APPROVED=$(curl -sS -X POST "$NOTIFICATIONS/$SECOND/approval" -H "Authorization: Bearer $REVIEWER" \
  -H "If-Match: \"$EDITED\"" | json "['version']")
echo "reviewer approved version $APPROVED"
curl -sS -X POST "$NOTIFICATIONS/$SECOND/submit" -H "Authorization: Bearer $SUBMITTER" -H "If-Match: \"$APPROVED\"" \
  -H "Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')" | json "['receipt']['reference']"
