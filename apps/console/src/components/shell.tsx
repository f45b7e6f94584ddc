import type { ReactNode } from "react";
import { Link, useLocation } from "wouter";
import { useSession, useSignOut } from "../data/session.js";
import { LanguageSwitch, useI18n } from "../i18n/index.js";

/** The page frame: header (language switch, and when signed in the main navigation and who is signed in), then `<main>`. */
export function Shell({ signedIn, children }: { readonly signedIn: boolean; readonly children: ReactNode }): ReactNode {
  const { t } = useI18n();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        {t("layout.skip")}
      </a>
      <header className="topbar">
        <span className="brand">{t("app.title")}</span>
        {signedIn ? <SignedInHeader /> : null}
        <LanguageSwitch />
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

const NAV: readonly { readonly href: string; readonly label: "nav.overview" | "nav.orders" | "nav.reconciliation" | "nav.webhooks" | "nav.audit" }[] = [
  { href: "/", label: "nav.overview" },
  { href: "/orders", label: "nav.orders" },
  { href: "/reconciliation", label: "nav.reconciliation" },
  { href: "/webhooks", label: "nav.webhooks" },
  { href: "/audit", label: "nav.audit" },
];

function SignedInHeader(): ReactNode {
  const { t } = useI18n();
  const session = useSession();
  const signOut = useSignOut();
  const [location, navigate] = useLocation();
  const actor = session.data?.actor;
  const who = actor === undefined ? "" : actor.kind === "staff" ? t("layout.signedInAs", { username: actor.username, role: t(`role.${actor.role}`) }) : t("layout.token");
  return (
    <>
      <nav aria-label={t("layout.nav")}>
        <ul>
          {NAV.map((item) => {
            const current = item.href === "/" ? location === "/" : location === item.href || location.startsWith(`${item.href}/`);
            return (
              <li key={item.href}>
                <Link href={item.href} aria-current={current ? "page" : undefined}>
                  {t(item.label)}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <span className="who">{who}</span>
      <button type="button" disabled={signOut.isPending} onClick={() => signOut.mutate(undefined, { onSettled: () => navigate("/sign-in", { replace: true }) })}>
        {t("layout.signOut")}
      </button>
    </>
  );
}
