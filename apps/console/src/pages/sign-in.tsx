import { useState, type FormEvent, type ReactNode } from "react";
import { Redirect, useLocation, useSearch } from "wouter";
import { isApiClientError } from "../api/errors.js";
import { Shell } from "../components/shell.js";
import { useSession, useSignIn } from "../data/session.js";
import { useI18n, type Translate } from "../i18n/index.js";

/** Where to go after signing in: the `next` the guard put in the query, if it is a console path; else the overview. */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next");
  if (next === null || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\") || next.startsWith("/sign-in")) return "/";
  return next;
}

function failureText(error: Error, t: Translate): string {
  if (isApiClientError(error)) {
    if (error.code === "RATE_LIMITED") return error.retryAfterSeconds === undefined ? error.message : t("signIn.rateLimited", { seconds: error.retryAfterSeconds });
    if (error.code === "SIGN_IN_FAILED") return t("signIn.failed");
  }
  return error.message;
}

export function SignInPage(): ReactNode {
  const { t } = useI18n();
  const search = useSearch();
  const [, navigate] = useLocation();
  const session = useSession();
  const signIn = useSignIn();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");

  if (session.data !== undefined && session.data !== null) return <Redirect to={nextPath(search)} replace />;

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    if (signIn.isPending) return;
    signIn.mutate({ username: username.trim(), password }, { onSuccess: () => navigate(nextPath(search), { replace: true }) });
  }

  return (
    <Shell signedIn={false}>
      <h1>{t("signIn.heading")}</h1>
      <form className="sign-in" onSubmit={submit}>
        <label htmlFor="sign-in-username">{t("signIn.username")}</label>
        <input id="sign-in-username" name="username" autoComplete="username" required maxLength={64} value={username} onChange={(event) => setUsername(event.target.value)} />
        <label htmlFor="sign-in-password">{t("signIn.password")}</label>
        <input
          id="sign-in-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={1024}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <button type="submit" disabled={signIn.isPending}>
          {t("signIn.submit")}
        </button>
        {signIn.isError ? <p role="alert">{failureText(signIn.error, t)}</p> : null}
      </form>
    </Shell>
  );
}
