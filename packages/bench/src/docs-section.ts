import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Replaces the `## heading` section of a markdown text (up to the next `## ` heading) with
 * `body`, or appends it when absent; every other section is kept as it was.
 */
export function replaceSection(markdown: string, heading: string, body: string): string {
  const section = `${heading}\n\n${body.trimEnd()}\n`;
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => line.trimEnd() === heading);
  const nextOffset = start === -1 ? -1 : lines.slice(start + 1).findIndex((line) => /^#{1,2} /.test(line));
  const before = start === -1 ? markdown : lines.slice(0, start).join("\n");
  const after = nextOffset === -1 ? "" : lines.slice(start + 1 + nextOffset).join("\n");
  return [before.trimEnd(), section.trimEnd(), after.trimEnd()].filter((part) => part !== "").join("\n\n") + "\n";
}

/** Rewrites one section of a markdown file, creating the file (with `title`) when absent. */
export async function writeSection(path: string, title: string, heading: string, body: string): Promise<void> {
  let current: string;
  try {
    current = await readFile(path, "utf8");
  } catch (cause) {
    if (!(cause instanceof Error && "code" in cause && cause.code === "ENOENT")) throw cause;
    current = `${title}\n`;
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, replaceSection(current, heading, body), "utf8");
}
