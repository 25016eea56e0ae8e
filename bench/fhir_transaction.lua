-- wrk: POST /fhir with a new transaction Bundle per request: one DiagnosticReport and 20
-- Observations of a random existing patient (ids of bench/fhir_generator.cc), linked by fresh
-- urn:uuid fullUrls, so every request is a new transaction that creates 21 resources.
-- Every response is checked: a 200 whose body has 21 entries answered "201 Created" counts as
-- a transaction that succeeded; done() prints "transactions ok=N failed=M".
-- Environment: BENCH_TOKEN, BENCH_PATIENTS.
local patients = tonumber(os.getenv("BENCH_PATIENTS"))
local threads = {}
local counter = 0
ok = 0
failed = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function response(status, headers, body)
  local _, created = string.gsub(body, '"201 Created"', "")
  if status == 200 and created == 21 then
    ok = ok + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local total_ok, total_failed = 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_failed = total_failed + thread:get("failed")
  end
  io.write(string.format("transactions ok=%d failed=%d\n", total_ok, total_failed))
end

function init(args)
  math.randomseed(os.time() + 7919 * (tid or 0))
end

wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Accept"] = "application/fhir+json"
wrk.headers["Content-Type"] = "application/fhir+json"

local kinds = {
  {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 60, 240},
  {"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 1, 3},
  {"2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 128, 150},
  {"2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3, 6},
  {"2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 120, 320},
}

local function uuid()
  return string.format("%04x%04x-%04x-4%03x-%04x-%04x%04x%04x", math.random(0, 65535),
                       math.random(0, 65535), math.random(0, 65535), math.random(0, 4095),
                       32768 + math.random(0, 16383), math.random(0, 65535),
                       math.random(0, 65535), math.random(0, 65535))
end

function request()
  counter = counter + 1
  local patient = string.format("Patient/p%07d", math.random(0, patients - 1))
  local entries = {}
  local results = {}
  for i = 1, 20 do
    local kind = kinds[(i - 1) % #kinds + 1]
    local full = "urn:uuid:" .. uuid()
    results[i] = '{"reference":"' .. full .. '"}'
    entries[i + 1] = '{"fullUrl":"' .. full .. '","resource":{"resourceType":"Observation",' ..
      '"status":"final","category":[{"coding":[{"system":' ..
      '"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],' ..
      '"code":{"coding":[{"system":"http://loinc.org","code":"' .. kind[1] .. '","display":"' ..
      kind[2] .. '"}]},"subject":{"reference":"' .. patient .. '"},' ..
      '"effectiveDateTime":"2026-12-01T08:30:00+01:00","valueQuantity":{"value":' ..
      math.random(kind[4], kind[5]) .. ',"unit":"' .. kind[3] ..
      '","system":"http://unitsofmeasure.org","code":"' .. kind[3] .. '"}},' ..
      '"request":{"method":"POST","url":"Observation"}}'
  end
  entries[1] = '{"fullUrl":"urn:uuid:' .. uuid() .. '","resource":{"resourceType":' ..
    '"DiagnosticReport","status":"final","identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.1",' ..
    '"value":"ACC-' .. (tid or 0) .. '-' .. counter .. '"}],"category":[{"coding":[{"system":' ..
    '"http://terminology.hl7.org/CodeSystem/v2-0074","code":"CH"}]}],"code":{"coding":[{' ..
    '"system":"http://loinc.org","code":"24323-8","display":' ..
    '"Comprehensive metabolic 2000 panel - Serum or Plasma"}]},"subject":{"reference":"' ..
    patient .. '"},"effectiveDateTime":"2026-12-01T08:30:00+01:00",' ..
    '"issued":"2026-12-01T11:00:00+01:00","result":[' .. table.concat(results, ",") ..
    ']},"request":{"method":"POST","url":"DiagnosticReport"}}'
  local body = '{"resourceType":"Bundle","type":"transaction","entry":[' ..
    table.concat(entries, ",") .. ']}'
  return wrk.format("POST", "/fhir", nil, body)
end
