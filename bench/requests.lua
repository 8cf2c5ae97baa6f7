-- wrk script: rotate over the GET requests of a file and report one summary line.
--
-- Usage: wrk ... -s requests.lua http://127.0.0.1:PORT -- REQUESTS_FILE
-- Each line of REQUESTS_FILE is "PATH" or "PATH<TAB>BEARER_TOKEN"; a token is
-- sent as "Authorization: Bearer TOKEN". Each thread pre-formats every request
-- once, then cycles through them. Responses outside 2xx are counted, and done()
-- prints a line "WRK_RESULT {json}" that bench/wrk.py parses.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   prepared = {}
   for line in io.lines(args[1]) do
      local path, token = line:match("^([^\t]+)\t?(.*)$")
      local headers = {}
      if token ~= "" then
         headers["Authorization"] = "Bearer " .. token
      end
      table.insert(prepared, wrk.format("GET", path, headers))
   end
   if #prepared == 0 then
      error("no requests in " .. args[1])
   end
   index = 0
   non2xx = 0
end

function request()
   index = index % #prepared + 1
   return prepared[index]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, rates)
   local non2xx_total = 0
   for _, thread in ipairs(threads) do
      non2xx_total = non2xx_total + thread:get("non2xx")
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests": %d, "duration_us": %d, "non_2xx": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p99_us": %d}\n',
      summary.requests, summary.duration, non2xx_total, errors.connect,
      errors.read, errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(99)))
end
