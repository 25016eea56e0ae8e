-- wrk script: a login flood, every request the password step of one account (Argon2id,
-- 64 MiB, t=2 on the server's hashing pool). Counts answers by status.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"login":"bench.user","password":"violet tram ledger quietly orbits 7"}'

local counts = {}
response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("login_requests_per_second %.1f\n",
                         summary.requests / (summary.duration / 1e6)))
end
