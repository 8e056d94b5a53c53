-- wrk script: POST /v1/triage with a few typical messages in turn (token from the environment).
local token = os.getenv("TRIAGE_BENCH_TOKEN")
local bodies = {}
for line in io.lines(os.getenv("TRIAGE_BENCH_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/triage", {["Content-Type"] = "application/json",
                    ["Authorization"] = "Bearer " .. token}, bodies[i])
end
