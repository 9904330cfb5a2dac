-- wrk's script for figure 1 (bench/over_http.py): counts every answer that is not the expected status and prints
-- one line "BENCH {json}" when done.
--
--   wrk -t1 -c8 -d5s -s bench/apply.lua http://127.0.0.1:PORT/v1/supervising-organizations -- post 201 7
--   wrk -t1 -c8 -d5s -s bench/apply.lua http://127.0.0.1:PORT/healthz -- get 200 0
--
-- Arguments: the mode ("post": a new permit application per request; "get": the URL's path as is), the expected
-- status, and the run's number (0-999, a different one for each wrk run against the same database). The
-- Authorization header, if any, comes from the environment (BENCH_AUTHORIZATION), not the command line.
--
-- The registry refuses a corporate number it already has, so each body carries its own: the 12-digit base is the
-- run's number (3 digits), the wrk thread's (3) and the thread's request counter (6), behind its check digit
-- (shared.reference.corporate_number_check_digit, ported below).

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

-- The check digit of a 12-digit base: 9 - (sum of the digits weighted 1, 2, 1, 2... from the right) mod 9.
function check_digit(base)
   local sum = 0
   for n = 1, 12 do
      local digit = string.byte(base, 13 - n) - 48
      sum = sum + digit * ((n % 2 == 1) and 1 or 2)
   end
   return tostring(9 - sum % 9)
end

function corporate_number(run, thread, n)
   local base = string.format("%03d%03d%06d", run % 1000, thread % 1000, n % 1000000)
   return check_digit(base) .. base
end

local BODY = '{"name": "Sakura Cooperative", "corporate_number": "%s", "address": "1-2-3 Chiyoda, Tokyo", '
   .. '"prefecture": "13", "representative": "Yamada Taro", "supervising_offices": [{"name": "Head office", '
   .. '"address": "1-2-3 Chiyoda, Tokyo", "supervision_manager": "Suzuki Hanako"}], '
   .. '"job_categories": ["construction"], "requested_permit_type": "general", '
   .. '"external_auditor": "Tanaka Law Office", "officers": [{"name": "Yamada Taro", '
   .. '"address": "%d-%d-%d Kanda, Chiyoda-ku, Tokyo", "position": "representative director"}], '
   .. '"applied_on": "2026-04-01"}'

function body(run, thread, n)
   return string.format(BODY, corporate_number(run, thread, n), run, thread, n)
end

function init(args)
   mode = args[1] or "get"
   expected = tonumber(args[2] or "200")
   run = tonumber(args[3] or "0")
   n = 0
   failures = 0
   first_unexpected = 0
   headers = {}
   local authorization = os.getenv("BENCH_AUTHORIZATION")
   if authorization and authorization ~= "" then
      headers["Authorization"] = authorization
   end
   if mode == "post" then
      headers["Content-Type"] = "application/json"
   else
      fixed = wrk.format("GET", nil, headers)
   end
end

function request()
   if mode ~= "post" then
      return fixed
   end
   n = n + 1
   return wrk.format("POST", nil, headers, body(run, thread_index, n))
end

function response(status, headers, body)
   if status ~= expected then
      failures = failures + 1
      if first_unexpected == 0 then
         first_unexpected = status
      end
   end
end

function done(summary, latency, requests)
   local failed, unexpected = 0, 0
   for _, thread in ipairs(threads) do
      failed = failed + thread:get("failures")
      if unexpected == 0 then
         unexpected = thread:get("first_unexpected")
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "failures": %d, "first_unexpected_status": %d, '
         .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
         .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, failed, unexpected, errors.connect, errors.read, errors.write,
      errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
