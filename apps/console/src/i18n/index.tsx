import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { en, type MessageKey, type Messages } from "./en.js";
import { zhCN } from "./zh-cn.js";

export const LANGUAGES = ["zh-CN", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
export const DICTIONARIES: Readonly<Record<Language, Messages>> = { en, "zh-CN": zhCN };
/** Where the chosen language is kept between visits. */
export const LANGUAGE_STORAGE_KEY = "console.lang";

export type { MessageKey, Messages };
export type Translate = (key: MessageKey, values?: Readonly<Record<string, string | number>>) => string;

/** Fills `{name}` placeholders; the values are plain text (React escapes them when shown). */
export function translate(messages: Messages, key: MessageKey, values: Readonly<Record<string, string | number>> = {}): string {
  return messages[key].replace(/\{([a-zA-Z]+)\}/g, (match, name: string) => (name in values ? String(values[name]) : match));
}

/** The stored choice, else the browser's language (zh… → zh-CN), else English. */
export function initialLanguage(stored: string | null, browserLanguage: string | undefined): Language {
  if (stored === "en" || stored === "zh-CN") return stored;
  return browserLanguage?.toLowerCase().startsWith("zh") === true ? "zh-CN" : "en";
}

function readStored(): string | null {
  try {
    return globalThis.localStorage.getItem(LANGUAGE_STORAGE_KEY);
  } catch {
    return null;
  }
}

interface I18n {
  readonly lang: Language;
  readonly t: Translate;
  readonly setLang: (lang: Language) => void;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children, initial }: { readonly children: ReactNode; readonly initial?: Language }): ReactNode {
  const [lang, setLangState] = useState<Language>(() => initial ?? initialLanguage(readStored(), globalThis.navigator.language));
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = DICTIONARIES[lang]["app.title"];
  }, [lang]);
  const setLang = useCallback((next: Language) => {
    setLangState(next);
    try {
      globalThis.localStorage.setItem(LANGUAGE_STORAGE_KEY, next);
    } catch {
      // Private mode may refuse storage; the choice then lasts for this page only.
    }
  }, []);
  const value = useMemo<I18n>(() => ({ lang, setLang, t: (key, values) => translate(DICTIONARIES[lang], key, values) }), [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (value === null) throw new Error("useI18n outside I18nProvider");
  return value;
}

/** The header button: named in the other language ("English" on a Chinese page, "中文" on an English one). */
export function LanguageSwitch(): ReactNode {
  const { lang, setLang, t } = useI18n();
  const other: Language = lang === "en" ? "zh-CN" : "en";
  return (
    <button type="button" className="lang-switch" lang={other} onClick={() => setLang(other)}>
      {t("lang.switch")}
    </button>
  );
}
