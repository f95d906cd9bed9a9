"""A webhook receiver for Switchboard's tests.

Checks every request's signature with `standardwebhooks` (the Standard Webhooks
specification's own Python library), answers 500 to the first FAIL requests and 204 to
the rest, and prints one JSON line per request: its id, whether the signature held, the
status answered and the body. Keeps connections alive, as receivers behind a proxy do.

usage: webhook_receiver.py PORT SECRET FAIL
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

port, secret, fail = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
hook = Webhook(secret)
answered = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global answered
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            payload = hook.verify(body, dict(self.headers.items()))
            error = None
        except Exception as e:  # the library's errors, and a body that is not JSON
            payload, error = None, str(e)
        answered += 1
        if error is not None:
            status = 401
        elif answered <= fail:
            status = 500
        else:
            status = 204
        line = {
            "id": self.headers.get("webhook-id"),
            "path": self.path,
            "verified": error is None,
            "error": error,
            "status": status,
            "body": payload,
        }
        print(json.dumps(line), flush=True)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(json.dumps({"listening": port}), flush=True)
server.serve_forever()
