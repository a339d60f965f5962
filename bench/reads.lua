-- Requests read from $REQS, one a line: METHOD <tab> PATH <tab> COOKIE <tab> BODY (COOKIE and
-- BODY may be empty). They are formatted once, in init, so that wrk spends its CPU sending them
-- (the client shares the machine's two cores with the server); each thread starts at a random
-- place in the list.
local requests = {}
local i = 0

function init(args)
  local key = os.getenv("KEY")
  for line in io.lines(os.getenv("REQS")) do
    local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {["Authorization"] = "Bearer " .. key}
    if cookie ~= "" then headers["Cookie"] = cookie end
    if body ~= "" then
      headers["Content-Type"] = "application/json"
    else
      body = nil
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + #tostring({}))
  i = math.random(#requests)
end

function request()
  i = i % #requests + 1
  return requests[i]
end
