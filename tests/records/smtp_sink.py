#!/usr/bin/env python3
"""A local SMTP sink for the notification tests: listens on 127.0.0.1 (a free port, printed
on the first line of stdout), answers EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT, and
writes each message it receives to DIR/<n>.eml as "MAIL FROM / RCPT TO" lines, a blank line
and the DATA as received (dot-unstuffed). Stops when stdin closes. Standard library only."""
import os
import socket
import sys
import threading


def serve(conn, out_dir, counter):
    with conn, conn.makefile("rb") as reader:
        def say(line):
            conn.sendall(line.encode() + b"\r\n")

        say("220 sink ESMTP")
        sender, recipients = "", []
        for raw in reader:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                say("250 sink")
            elif verb == "MAIL":
                sender, recipients = line[10:], []
                say("250 ok")
            elif verb == "RCPT":
                recipients.append(line[8:])
                say("250 ok")
            elif verb == "DATA":
                say("354 end with .")
                data = []
                for body in reader:
                    text = body.decode("utf-8", "replace").rstrip("\r\n")
                    if text == ".":
                        break
                    data.append(text[1:] if text.startswith("..") else text)
                with counter["lock"]:
                    counter["n"] += 1
                    n = counter["n"]
                path = os.path.join(out_dir, "%d.eml" % n)
                with open(path + ".part", "w", encoding="utf-8") as f:
                    f.write("MAIL FROM %s\n" % sender)
                    for r in recipients:
                        f.write("RCPT TO %s\n" % r)
                    f.write("\n" + "\n".join(data) + "\n")
                os.rename(path + ".part", path)
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            elif verb in ("RSET", "NOOP"):
                say("250 ok")
            else:
                say("502 not implemented")


def main():
    out_dir = sys.argv[1]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    print(listener.getsockname()[1], flush=True)
    counter = {"n": 0, "lock": threading.Lock()}

    def accept():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn, out_dir, counter), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()  # the test closes it to stop the sink


if __name__ == "__main__":
    main()
