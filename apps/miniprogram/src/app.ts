import { API_BASE_URL } from "./config.js";
import { CONTRACT_VERSION } from "./lib/pay-core.js";
import { createAppServices, type AppOption } from "./services/app-services.js";
import { systemClock } from "./utils/clock.js";

App<AppOption>({
  // The real wx, handed over as a WxPort: the compiler checks it against miniprogram-api-typings here.
  services: createAppServices({ wx, baseUrl: API_BASE_URL, contractVersion: CONTRACT_VERSION, clock: systemClock }),
});
