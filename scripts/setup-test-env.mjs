#!/usr/bin/env node
// Installs and checks what the test suites need beyond npm packages. Each step is idempotent.
// (Browser and database steps join here as the suites that need them arrive.)
console.log("test environment: nothing beyond npm packages is needed yet");
