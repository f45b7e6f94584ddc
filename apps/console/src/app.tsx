import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link, Redirect, Route, Router, Switch, useLocation, useSearch, type BaseLocationHook } from "wouter";
import type { ApiClient } from "./api/client.js";
import { LoadError, Loading } from "./components/common.js";
import { ApiProvider } from "./data/api-context.js";
import { Shell } from "./components/shell.js";
import { useSession } from "./data/session.js";
import { I18nProvider, useI18n, type Language } from "./i18n/index.js";
import { AuditPage } from "./pages/audit.js";
import { OrderDetailPage } from "./pages/order-detail.js";
import { OrdersPage } from "./pages/orders.js";
import { OverviewPage } from "./pages/overview.js";
import { ReconciliationDayPage, ReconciliationPage } from "./pages/reconciliation.js";
import { SignInPage } from "./pages/sign-in.js";
import { WebhookEndpointPage, WebhooksPage } from "./pages/webhooks.js";

/** The path the API serves the console under (vite.config.ts `base`). */
export const CONSOLE_BASE = "/console";

export interface AppProps {
  readonly client: ApiClient;
  readonly queryClient: QueryClient;
  /** Tests pass wouter's memory location; the browser's is the default. */
  readonly location?: { readonly hook: BaseLocationHook; readonly searchHook?: () => string } | undefined;
  readonly language?: Language | undefined;
}

/** The whole console: providers, the router under /console, and the pages. */
export function App({ client, queryClient, location, language }: AppProps): ReactNode {
  const routerProps = location === undefined ? { base: CONSOLE_BASE } : { hook: location.hook, ...(location.searchHook === undefined ? {} : { searchHook: location.searchHook }) };
  return (
    <QueryClientProvider client={queryClient}>
      <ApiProvider client={client}>
        <I18nProvider {...(language === undefined ? {} : { initial: language })}>
          <Router {...routerProps}>
            <Switch>
              <Route path="/sign-in">
                <SignInPage />
              </Route>
              <Route>
                <RequireSession>
                  <Pages />
                </RequireSession>
              </Route>
            </Switch>
          </Router>
        </I18nProvider>
      </ApiProvider>
    </QueryClientProvider>
  );
}

function Pages(): ReactNode {
  return (
    <Switch>
      <Route path="/">
        <OverviewPage />
      </Route>
      <Route path="/orders">
        <OrdersPage />
      </Route>
      <Route path="/orders/:id">{(params) => <OrderDetailPage key={params.id} id={params.id} />}</Route>
      <Route path="/reconciliation">
        <ReconciliationPage />
      </Route>
      <Route path="/reconciliation/:date">{(params) => <ReconciliationDayPage key={params.date} date={params.date} />}</Route>
      <Route path="/webhooks">
        <WebhooksPage />
      </Route>
      <Route path="/webhooks/:id">{(params) => <WebhookEndpointPage key={params.id} id={params.id} />}</Route>
      <Route path="/audit">
        <AuditPage />
      </Route>
      <Route>
        <NotFoundPage />
      </Route>
    </Switch>
  );
}

/** A signed-out visitor goes to /sign-in, carrying where they were going in `next`. */
function RequireSession({ children }: { readonly children: ReactNode }): ReactNode {
  const session = useSession();
  const [location] = useLocation();
  const search = useSearch();
  if (session.isPending) {
    return (
      <Shell signedIn={false}>
        <Loading />
      </Shell>
    );
  }
  if (session.isError) {
    return (
      <Shell signedIn={false}>
        <LoadError error={session.error} />
      </Shell>
    );
  }
  if (session.data === null) {
    const next = `${location}${search === "" ? "" : `?${search}`}`;
    return <Redirect to={`/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Shell signedIn>{children}</Shell>;
}

function NotFoundPage(): ReactNode {
  const { t } = useI18n();
  return (
    <>
      <h1>{t("notFound.heading")}</h1>
      <p>
        <Link href="/">{t("notFound.back")}</Link>
      </p>
    </>
  );
}
