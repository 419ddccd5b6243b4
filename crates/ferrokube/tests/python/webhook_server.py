"""A small HTTPS admission webhook for ferrokube's tests.

POST /validate: denies pods named "evil" (403 with a message), allows the rest with a warning.
POST /mutate:   adds the label mutated-by=webhook and records the requesting user in an
                annotation, as a JSON patch.
POST /slow:     answers after three seconds (for timeouts).
Usage: webhook_server.py CERT KEY; prints the port it listens on (127.0.0.1), then serves.
"""
import base64
import json
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        req = review["request"]
        obj = req.get("object") or {}
        name = obj.get("metadata", {}).get("name") or req.get("name")
        resp = {"uid": req["uid"], "allowed": True}
        if self.path.startswith("/slow"):
            time.sleep(3)
        if self.path.startswith("/validate"):
            if name == "evil":
                resp = {"uid": req["uid"], "allowed": False,
                        "status": {"code": 403, "message": "pods named evil are not allowed"}}
            else:
                resp["warnings"] = ["checked by the test webhook"]
        elif self.path.startswith("/mutate"):
            ops = []
            if not obj.get("metadata", {}).get("labels"):
                ops.append({"op": "add", "path": "/metadata/labels", "value": {}})
            ops.append({"op": "add", "path": "/metadata/labels/mutated-by", "value": "webhook"})
            if not obj.get("metadata", {}).get("annotations"):
                ops.append({"op": "add", "path": "/metadata/annotations", "value": {}})
            ops.append({"op": "add", "path": "/metadata/annotations/requested-by",
                        "value": req["userInfo"]["username"]})
            resp["patchType"] = "JSONPatch"
            resp["patch"] = base64.b64encode(json.dumps(ops).encode()).decode()
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "response": resp}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    cert, key = sys.argv[1], sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
