-- Checks for random customers from $IDS. The requests are formatted once, in init, so that
-- wrk spends its CPU sending them (the client shares the machine's two cores with the server).
local requests = {}
local i = 0

function init(args)
  local ids = {}
  for line in io.lines(os.getenv("IDS")) do
    ids[#ids + 1] = line
    if #ids >= 1000000 then break end
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + #tostring({}))
  local headers = {["Authorization"] = "Bearer " .. os.getenv("KEY")}
  local purpose = os.getenv("PURPOSE") or "newsletter"
  for n = 1, 50000 do
    local id = ids[math.random(#ids)]
    requests[n] = wrk.format("GET",
      "/v1/check?customer=" .. id .. "&purpose=" .. purpose .. "&channel=email", headers)
  end
end

function request()
  i = i % #requests + 1
  return requests[i]
end
