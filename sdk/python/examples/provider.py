"""Signs a payment notification as a payment provider does, with the SDK's sign_webhook,
and posts it to atone's webhook (or to any receiver): the same scheme both ways.

    python examples/provider.py URL SECRET USER_ID AMOUNT [EVENT_ID]

Prints the HTTP status and the answer; exits non-zero unless it is 200.
"""

import json
import sys
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

from atone.webhook import SIGNATURE_HEADER, sign_webhook

url, secret, user_id, amount = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
event_id = sys.argv[5] if len(sys.argv) > 5 else f"evt-{uuid.uuid4()}"
body = json.dumps(
    {
        "event_id": event_id,
        "type": "payment.succeeded",
        "user_id": user_id,
        "amount": amount,
        "paid_at": datetime.now(timezone.utc).isoformat(),
    }
).encode()
request = urllib.request.Request(
    url,
    data=body,
    headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign_webhook(body, secret)},
)
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        status, answer = response.status, response.read().decode()
except urllib.error.HTTPError as e:
    status, answer = e.code, e.read().decode()
print(status, answer)
sys.exit(0 if status == 200 else 1)
