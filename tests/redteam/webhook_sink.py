#!/usr/bin/env python3
"""A local webhook sink for the exfiltration guard's tests: an HTTP server on 127.0.0.1 (a free
port, printed on the first line of stdout) that writes each POSTed body to DIR/<n>.json and
answers 204. With a second argument N it first refuses N posts with 503, so retries show.
Stops when stdin closes. Standard library only."""
import http.server
import os
import sys
import threading

out_dir = sys.argv[1]
refusals = [int(sys.argv[2]) if len(sys.argv) > 2 else 0]
lock = threading.Lock()
counter = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock:
            if refusals[0] > 0:
                refusals[0] -= 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            counter[0] += 1
            path = os.path.join(out_dir, "%d.json" % counter[0])
        with open(path + ".part", "wb") as f:
            f.write(body)
        os.rename(path + ".part", path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
server.shutdown()
