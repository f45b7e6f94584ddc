import type { ReactNode } from "react";
import { showTime } from "../format.js";
import { useI18n } from "../i18n/index.js";

/** A timestamp as text in Beijing time, machine-readable in `dateTime`. */
export function Time({ at }: { readonly at: string | null | undefined }): ReactNode {
  if (at === null || at === undefined) return "—";
  return <time dateTime={at}>{showTime(at)}</time>;
}

export function Loading(): ReactNode {
  const { t } = useI18n();
  return <p role="status">{t("common.loading")}</p>;
}

/** A failed load: the API's message, as text. */
export function LoadError({ error }: { readonly error: Error }): ReactNode {
  const { t } = useI18n();
  return <p role="alert">{t("common.loadFailed", { message: error.message })}</p>;
}

/** Previous / Next page over cursor pages: the caller keeps the stack of cursors it visited. */
export function CursorPager({
  hasPrevious,
  nextCursor,
  onPrevious,
  onNext,
}: {
  readonly hasPrevious: boolean;
  readonly nextCursor: string | null | undefined;
  readonly onPrevious: () => void;
  readonly onNext: (cursor: string) => void;
}): ReactNode {
  const { t } = useI18n();
  if (!hasPrevious && (nextCursor === null || nextCursor === undefined)) return null;
  return (
    <div className="pager">
      {hasPrevious ? (
        <button type="button" onClick={onPrevious}>
          {t("common.previousPage")}
        </button>
      ) : null}
      {nextCursor !== null && nextCursor !== undefined ? (
        <button type="button" onClick={() => onNext(nextCursor)}>
          {t("common.nextPage")}
        </button>
      ) : null}
    </div>
  );
}
