// config.js is written by scripts/build.mjs, so that the build output names the API it talks to.
// (The contract version comes with the contract itself, from lib/pay-core.js.)

/** The API's origin, from PAY_API_BASE_URL at build time (default http://127.0.0.1:3000). */
export declare const API_BASE_URL: string;
