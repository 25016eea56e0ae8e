-- wrk: GET /fhir/Observation/{id} of a random existing observation (bench/run-fhir). Ids are
-- those bench/fhir_generator.cc writes: patient n has per + (n < extra) observations
-- "o<n, 7 digits>-<k>". Environment: BENCH_TOKEN, BENCH_PATIENTS, BENCH_OBSERVATIONS.
local patients = tonumber(os.getenv("BENCH_PATIENTS"))
local observations = tonumber(os.getenv("BENCH_OBSERVATIONS"))
local per = math.floor(observations / patients)
local extra = observations - per * patients
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
  local n = math.random(0, patients - 1)
  local count = per
  if n < extra then count = count + 1 end
  local k = math.random(0, count - 1)
  return wrk.format("GET", string.format("/fhir/Observation/o%07d-%d", n, k))
end
