import { QueryClient } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApiClient } from "./api/client.js";
import { isApiClientError } from "./api/errors.js";
import { App } from "./app.js";
import { queryKeys } from "./data/keys.js";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refused call (4xx) will be refused again; only a lost answer or a 5xx is worth one more try.
      retry: (failures, error) => failures < 1 && !(isApiClientError(error) && error.status >= 400 && error.status < 500),
      refetchOnWindowFocus: true,
    },
  },
});
// A 401 from any call means the session ended: forget it, and the page guard shows the sign-in page.
const client = createApiClient({ onUnauthorized: () => queryClient.setQueryData(queryKeys.session, null) });

const root = document.getElementById("root");
if (root !== null)
  createRoot(root).render(
    <StrictMode>
      <App client={client} queryClient={queryClient} />
    </StrictMode>,
  );
