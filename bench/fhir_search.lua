-- wrk: GET /fhir/Patient?family=<prefix> with a random prefix (3 to 6 letters, percent-
-- encoded) of a generated family name, one a line in BENCH_FAMILIES (bench/fhir_generator.cc
-- writes it into the vault); with BENCH_SEARCH=birthdate, GET /fhir/Patient?birthdate=<a
-- random day of 1930-2024> instead (the generator's birth years). Environment: BENCH_TOKEN,
-- BENCH_FAMILIES, BENCH_SEARCH.
local by_birthdate = os.getenv("BENCH_SEARCH") == "birthdate"
local prefixes = {}
if not by_birthdate then
  for line in io.lines(os.getenv("BENCH_FAMILIES")) do
    if line ~= "" then prefixes[#prefixes + 1] = line end
  end
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
  if by_birthdate then
    return wrk.format("GET", string.format("/fhir/Patient?birthdate=%04d-%02d-%02d",
                                           math.random(1930, 2024), math.random(1, 12),
                                           math.random(1, 28)))
  end
  return wrk.format("GET", "/fhir/Patient?family=" .. prefixes[math.random(1, #prefixes)])
end
