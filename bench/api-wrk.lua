-- bench/api-wrk.mjs's request for wrk: bench/api-client.ts's ≈3 KB JSON message, POST /v1/messages with its key.
-- The token comes from the environment (WRK_TOKEN); every answer must be 202 (counted, printed at the end).
local token = os.getenv("WRK_TOKEN")
local thanks = string.rep("Thanks! ", 200)
wrk.method = "POST"
wrk.headers["authorization"] = "Bearer " .. token
wrk.headers["content-type"] = "application/json"
-- the same bytes as JSON.stringify in api-client.ts (key order, no spaces)
wrk.body = '{"from":"App <app@acme.test>","to":["bob@dest.test"],"subject":"Your receipt","text":"' .. thanks ..
  '","html":"<p>' .. thanks .. '</p>","tags":["receipt"],"metadata":{"order":"1"}}'
