-- wrk script: POST /api/v1/bookings, each request for a different free slot and email.
-- Usage: wrk ... -s post_bookings.lua URL -- <file of slot public ids, one a line> <threads>
-- Thread k of n takes lines k, k+n, k+2n, ...; when its share runs out it repeats the last
-- id, which answers 409 and so shows up as errors rather than being hidden.

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")

local next_thread = 1

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local path, threads = args[1], tonumber(args[2])
  ids = {}
  local line_no = 0
  for line in io.lines(path) do
    if line ~= "" then
      if line_no % threads == thread_id - 1 then
        ids[#ids + 1] = line
      end
      line_no = line_no + 1
    end
  end
  sent = 0
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  sent = sent + 1
  local slot = ids[sent] or ids[#ids]
  local body = string.format(
    '{"slot_id":"%s","mode":"phone","name":"Bench Patient","email":"bench-%d-%d@example.com",' ..
    '"phone":"+19705550123","interest":"tms","note":"","consent":true}',
    slot, thread_id, sent)
  return wrk.format("POST", "/api/v1/bookings", headers, body)
end
