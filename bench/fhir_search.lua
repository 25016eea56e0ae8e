-- wrk: GET /fhir/Patient?family=<prefix> with a random prefix (3 to 6 letters, percent-
-- encoded) of a generated family name, one a line in BENCH_FAMILIES (bench/fhir_generator.cc
-- writes it into the vault). Environment: BENCH_TOKEN, BENCH_FAMILIES.
local prefixes = {}
for line in io.lines(os.getenv("BENCH_FAMILIES")) do
  if line ~= "" then prefixes[#prefixes + 1] = line end
end
local threads = {}
statuses = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Counts the answers by status; done() prints "statuses 200=N 400=M ...".
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local keys = {}
  for status in pairs(total) do keys[#keys + 1] = status end
  table.sort(keys)
  local parts = {}
  for _, status in ipairs(keys) do parts[#parts + 1] = status .. "=" .. total[status] end
  io.write("statuses " .. table.concat(parts, " ") .. "\n")
end

function init(args)
  math.randomseed(os.time() + 7919 * (tid or 0))
end

wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Accept"] = "application/fhir+json"

function request()
  return wrk.format("GET", "/fhir/Patient?family=" .. prefixes[math.random(1, #prefixes)])
end
