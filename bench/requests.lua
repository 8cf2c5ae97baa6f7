-- wrk script: rotate over the GET requests of a file and report one summary line.
--
-- Usage: wrk ... -s requests.lua http://127.0.0.1:PORT -- REQUESTS_FILE
-- Each line of REQUESTS_FILE is "PATH" or "PATH<TAB>BEARER_TOKEN"; a token is
-- sent as "Authorization: Bearer TOKEN". Each thread pre-formats every request
-- once, then cycles through them. done() prints a line "WRK_RESULT {json}" that
-- bench/wrk.py parses. There is no response() callback: defining one makes wrk
-- hand every response's headers and body to Lua, load-generator CPU taken from the
-- server on the same machine. wrk counts answers of 400 and up itself
-- (errors.status), and bench/status.py checks the answers before loading.

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
end

function request()
   index = index % #prepared + 1
   return prepared[index]
end

function done(summary, latency, rates)
   local errors = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests": %d, "duration_us": %d, "http_errors": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p99_us": %d}\n',
      summary.requests, summary.duration, errors.status, errors.connect,
      errors.read, errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(99)))
end
