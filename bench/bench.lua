-- wrk script for bench/run.py and bench/scale.py: counts answers that are not 2xx as errors
-- and prints the totals as one JSON line. With arguments (-- <file of slot ids> <threads>) it
-- POSTs /api/v1/bookings instead, each request for its own slot and email: thread k of n takes
-- lines k, k+n, ...; when its share runs out it repeats the last id, which answers 409 (an error).

local threads, count = {}, 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  bad, sent = 0, 0
  if args[1] then
    ids = {}
    local n = 0
    for line in io.lines(args[1]) do
      if n % tonumber(args[2]) == id - 1 then ids[#ids + 1] = line end
      n = n + 1
    end
  end
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  if not ids then return wrk.request() end
  sent = sent + 1
  local body = string.format('{"slot_id":"%s","mode":"phone","name":"Bench Patient",' ..
    '"email":"bench-%d-%d@example.com","phone":"+19705550123","interest":"tms","note":"",' ..
    '"consent":true}', ids[sent] or ids[#ids], id, sent)
  return wrk.format("POST", "/api/v1/bookings", headers, body)
end

function response(status)
  if status < 200 or status > 299 then bad = bad + 1 end
end

function done(summary, latency)
  local e, errors = summary.errors, 0
  for _, thread in ipairs(threads) do errors = errors + thread:get("bad") end
  errors = errors + e.connect + e.read + e.write + e.timeout
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"errors":%d,' ..
    '"mean_us":%f,"p50_us":%d,"p99_us":%d}\n', summary.requests, summary.duration, errors,
    latency.mean, latency:percentile(50), latency:percentile(99)))
end
