"""A webhook receiver: checks each delivery's Atone-Signature over the raw body with the
SDK's verify_webhook, drops an event id it has seen already (deliveries are at least
once), prints the event as one JSON line, and answers 200; anything else gets 400 with why.

    WEBHOOK_SECRET=... python examples/receiver.py [port]   (default 8787)
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from atone.webhook import SIGNATURE_HEADER, WebhookSignatureError, verify_webhook

SECRET = os.environ.get("WEBHOOK_SECRET") or sys.exit("WEBHOOK_SECRET is required")
SEEN: set = set()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        body = self.rfile.read(length)
        try:
            verify_webhook(body, self.headers.get(SIGNATURE_HEADER), SECRET)
        except WebhookSignatureError as e:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(str(e).encode())
            return
        event = json.loads(body)
        if event.get("event_id") not in SEEN:
            SEEN.add(event.get("event_id"))
            print(json.dumps(event, ensure_ascii=False), flush=True)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8787
    print(f"receiving on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
