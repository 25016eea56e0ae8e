#!/usr/bin/env python3
"""Drives medvault's auth API for the benchmarks (bench/run-auth, bench/run-stuffing): enrolls
staff accounts (medvault user add, then password and TOTP computed by oathtool), and plays a
credential-stuffing attacker who holds every password but no second factor. Plain HTTP on
loopback (server.tls = false). Prints JSON figures; nothing here fails on a figure."""
import concurrent.futures
import http.client
import json
import re
import statistics
import subprocess
import sys
import time

PASSWORD = "violet tram ledger quietly orbits 7"


def post(port, path, body, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, json.dumps(body),
                 {"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = {}
    return response.status, parsed, response.getheader("Set-Cookie") or ""


def enroll(medvault, vault, port, login):
    out = subprocess.run([medvault, "user", "add", "--dir", vault, "--login", login, "--kind",
                          "clinician", "--name", "Bench User"], check=True,
                         capture_output=True, text=True).stdout
    code = re.search(r"enrollment code[^:]*: ([0-9A-Z-]{19})", out).group(1)
    status, started, _ = post(port, "/auth/enroll", {"code": code, "password": PASSWORD})
    assert status == 200, started
    token = started["enrollment_token"]
    _, totp, _ = post(port, "/auth/enroll/totp", {"enrollment_token": token})
    otp = subprocess.run(["oathtool", "--totp", "-b", totp["secret"]], check=True,
                         capture_output=True, text=True).stdout.strip()
    status, done, cookie = post(port, "/auth/enroll/totp/confirm",
                                {"enrollment_token": token, "code": otp})
    assert status == 200, done
    return cookie.split(";")[0]


def main():
    command, medvault, vault, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if command == "session":
        print(enroll(medvault, vault, port, "bench.user"))
        return
    n = int(sys.argv[5])
    if command == "enumeration":
        # n tries each, alternated: an unknown login, and the enrolled account with a wrong
        # password. Both must get the same answer; the medians show whether time tells them apart.
        times = {"unknown": [], "wrong_password": []}
        answers = set()
        statuses = {}
        for i in range(n):
            for kind, login in (("unknown", f"nobody{i}"), ("wrong_password", "bench.user")):
                started = time.perf_counter()
                status, body, cookie = post(port, "/auth/login",
                                            {"login": login, "password": "wrong " + PASSWORD})
                times[kind].append((time.perf_counter() - started) * 1000)
                answers.add((status, json.dumps(body, sort_keys=True), bool(cookie)))
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        median = {kind: statistics.median(values) for kind, values in times.items()}
        # A 429 (hashing saturated) answers before any hash: only 401s measure the dummy hash
        # against the real one.
        print(json.dumps({"tries_each": n, "distinct_answers": len(answers), "statuses": statuses,
                          "median_ms": {k: round(v, 2) for k, v in median.items()},
                          "median_difference_ms":
                              round(median["wrong_password"] - median["unknown"], 2)}))
        return
    if command == "enroll-many":
        started = time.time()
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda i: enroll(medvault, vault, port, f"victim{i}"), range(n)))
        print(json.dumps({"accounts": n, "setup_seconds": round(time.time() - started, 1)}))
        return
    if command == "attack":
        counts = {"accounts": n, "passwords_accepted": 0,
                  "codes_refused": 0, "throttled_429": 0, "other": 0, "sessions": 0}
        attack_start = time.time()
        for i in range(n):
            status, body, cookie = post(port, "/auth/login",
                                        {"login": f"victim{i}", "password": PASSWORD})
            if status == 429:
                counts["throttled_429"] += 1
                continue
            if status != 200:
                counts["other"] += 1
                continue
            counts["passwords_accepted"] += 1
            status, body, cookie = post(port, "/auth/login/totp",
                                        {"pending_token": body["pending_token"], "code": "000000"})
            if status == 200 or cookie:
                counts["sessions"] += 1
            elif status == 429:
                counts["throttled_429"] += 1
            else:
                counts["codes_refused"] += 1
        counts["attack_seconds"] = round(time.time() - attack_start, 1)
        print(json.dumps(counts))


if __name__ == "__main__":
    main()
