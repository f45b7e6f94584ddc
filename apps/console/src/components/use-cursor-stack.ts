import { useCallback, useState } from "react";

/** The cursors of the pages visited so far: the last is the page shown (undefined: the first page). */
export function useCursorStack(): {
  readonly cursor: string | undefined;
  readonly hasPrevious: boolean;
  readonly next: (cursor: string) => void;
  readonly previous: () => void;
  readonly reset: () => void;
} {
  const [stack, setStack] = useState<readonly (string | undefined)[]>([undefined]);
  const next = useCallback((cursor: string) => setStack((current) => [...current, cursor]), []);
  const previous = useCallback(() => setStack((current) => (current.length > 1 ? current.slice(0, -1) : current)), []);
  const reset = useCallback(() => setStack([undefined]), []);
  return { cursor: stack[stack.length - 1], hasPrevious: stack.length > 1, next, previous, reset };
}
