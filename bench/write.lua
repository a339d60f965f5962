-- Grants and withdrawals of the newsletter by e-mail for random customers from $IDS,
-- formatted once in init (see check.lua).
local requests = {}
local i = 0

function init(args)
  local ids = {}
  for line in io.lines(os.getenv("IDS")) do
    ids[#ids + 1] = line
    if #ids >= 1000000 then break end
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + #tostring({}))
  local headers = {["Authorization"] = "Bearer " .. os.getenv("KEY"),
                   ["Content-Type"] = "application/json"}
  local actions = {"grant", "withdraw"}
  for n = 1, 50000 do
    local id = ids[math.random(#ids)]
    local body = '{"purpose":"newsletter","channel":"email","action":"' .. actions[n % 2 + 1] ..
      '","notice_version":1,"source":"web","actor":{"type":"customer"}}'
    requests[n] = wrk.format("POST", "/v1/customers/" .. id .. "/consents", headers, body)
  end
end

function request()
  i = i % #requests + 1
  return requests[i]
end
