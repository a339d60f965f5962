-- Random customers from $IDS (first 200,000 lines), one check each.
local ids = {}
local key = os.getenv("KEY")
local purpose = os.getenv("PURPOSE") or "newsletter"
for line in io.lines(os.getenv("IDS")) do
  ids[#ids + 1] = line
  if #ids >= 200000 then break end
end
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/v1/check?customer=" .. id .. "&purpose=" .. purpose .. "&channel=email",
    {["Authorization"] = "Bearer " .. key})
end
