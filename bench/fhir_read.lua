-- wrk: GET /fhir/Observation/{id} of a random existing observation (bench/run-fhir). Ids are
-- those bench/fhir_generator.cc writes: patient n has per + (n < extra) observations
-- "o<n, 7 digits>-<k>". Environment: BENCH_TOKEN, BENCH_PATIENTS, BENCH_OBSERVATIONS.
local patients = tonumber(os.getenv("BENCH_PATIENTS"))
local observations = tonumber(os.getenv("BENCH_OBSERVATIONS"))
local per = math.floor(observations / patients)
local extra = observations - per * patients
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
  local n = math.random(0, patients - 1)
  local count = per
  if n < extra then count = count + 1 end
  local k = math.random(0, count - 1)
  return wrk.format("GET", string.format("/fhir/Observation/o%07d-%d", n, k))
end
