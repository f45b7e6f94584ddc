import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

// TODO(issue 19, console helper): the console app.
const root = document.getElementById("root");
if (root !== null)
  createRoot(root).render(
    <StrictMode>
      <main>Merchant console</main>
    </StrictMode>,
  );
