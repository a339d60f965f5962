-- Random customers from $IDS; each request grants or withdraws the newsletter by e-mail.
local ids = {}
local key = os.getenv("KEY")
for line in io.lines(os.getenv("IDS")) do
  ids[#ids + 1] = line
  if #ids >= 200000 then break end
end
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
local actions = {"grant", "withdraw"}
request = function()
  local id = ids[math.random(#ids)]
  local body = '{"purpose":"newsletter","channel":"email","action":"' .. actions[math.random(2)] ..
    '","notice_version":1,"source":"web","actor":{"type":"customer"}}'
  return wrk.format("POST", "/v1/customers/" .. id .. "/consents",
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end
