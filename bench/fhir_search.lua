-- wrk: GET /fhir/Patient?family=<prefix> with a random prefix (3 to 6 letters, percent-
-- encoded) of a generated family name, one a line in BENCH_FAMILIES (bench/fhir_generator.cc
-- writes it into the vault). Environment: BENCH_TOKEN, BENCH_FAMILIES.
local prefixes = {}
for line in io.lines(os.getenv("BENCH_FAMILIES")) do
  if line ~= "" then prefixes[#prefixes + 1] = line end
end
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  math.randomseed(os.time() + 7919 * (tid or 0))
end

wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Accept"] = "application/fhir+json"

function request()
  return wrk.format("GET", "/fhir/Patient?family=" .. prefixes[math.random(1, #prefixes)])
end
