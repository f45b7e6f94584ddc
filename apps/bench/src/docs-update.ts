// `--only NAME --update-docs`: re-measures some benchmarks and splices their sections into the published
// docs/benchmarks.md, keeping every other section's figures as they are. The file then says which sections
// were re-measured, when and how; a full run rewrites the whole file and drops that note.
import { readFile, writeFile } from "node:fs/promises";
import { runningIt } from "./docs.js";
import { PERFORMANCE_HISTORY_HEADING } from "./performance-history.js";
import { formatTargets, type Section } from "./markdown.js";

/** What the file says about a partial run. */
export interface PartialRunContext {
  readonly date: string;
  /** The exact command, e.g. `npx -y pnpm@10.34.9 bench -- --only notify --update-docs`. */
  readonly command: string;
  readonly loadAtStart: number;
  readonly loadAtEnd: number;
  readonly durationMinutes: number;
}

const TARGETS_HEADING = "## Targets";
const NOTE_PREFIX = "Re-measured since:";

/** The `## ` headings of a text (heading lines only). */
function headings(text: string): string[] {
  return text.split("\n").filter((line) => line.startsWith("## "));
}

function sectionText(s: Section): string {
  return [`${s.heading}\n\n${s.body.trimEnd()}`, ...(s.checks.length > 0 ? [formatTargets(s.checks)] : []), ...(s.appendix === undefined ? [] : [s.appendix.trimEnd()])].join(
    "\n\n",
  );
}

/** Where the `## ` block starting at `heading` ends: the next `## ` heading that is not one of `own` (the section's appendix headings), or the end. */
function blockRange(doc: string, heading: string, own: readonly string[]): { start: number; end: number } {
  const lines = doc.split("\n");
  const first = lines.indexOf(heading);
  if (first < 0) throw new Error(`docs/benchmarks.md has no "${heading}" section to replace: run the whole bench instead.`);
  let last = first + 1;
  while (last < lines.length && !(lines[last]?.startsWith("## ") === true && !own.includes(lines[last] ?? ""))) last++;
  const start = lines.slice(0, first).join("\n").length + (first > 0 ? 1 : 0);
  const end = lines.slice(0, last).join("\n").length + (last > 0 ? 1 : 0);
  return { start, end };
}

/** The target lines (`- PASS ...`, `- MISS ...`) of a block. */
function targetLines(block: string): string[] {
  return block.split("\n").filter((line) => line.startsWith("- PASS ") || line.startsWith("- MISS "));
}

/** Adds a section the file does not have yet where a full run puts it: after the other benchmarks, before the performance history (or the running instructions). */
function addSection(doc: string, section: Section): string {
  const lines = doc.split("\n");
  const before = [PERFORMANCE_HISTORY_HEADING, "## Running it"].map((heading) => lines.indexOf(heading)).find((at) => at >= 0);
  if (before === undefined) throw new Error(`docs/benchmarks.md has nowhere to add "${section.heading}": run the whole bench instead.`);
  const offset = lines.slice(0, before).join("\n").length + 1;
  return `${doc.slice(0, offset)}${sectionText(section)}\n\n${doc.slice(offset)}`;
}

/** Replaces one section (and its appendix) in the document; returns the new document and the old block's target lines. */
function replaceSection(doc: string, section: Section, addMissing = false): { doc: string; oldTargets: string[] } {
  if (addMissing && !doc.split("\n").includes(section.heading)) return { doc: addSection(doc, section), oldTargets: [] };
  const fresh = sectionText(section);
  const { start, end } = blockRange(doc, section.heading, headings(fresh));
  const old = doc.slice(start, end);
  const trailing = end < doc.length ? "\n\n" : "\n";
  return { doc: `${doc.slice(0, start)}${fresh}${trailing}${doc.slice(end)}`, oldTargets: targetLines(old) };
}

/** Rewrites the `## Targets` summary: the replaced sections' old lines give way to their new ones, in place; the count is redone. */
function replaceTargets(doc: string, oldLines: readonly string[], newLines: readonly string[]): string {
  const { start, end } = blockRange(doc, TARGETS_HEADING, []);
  const lines = targetLines(doc.slice(start, end));
  const at = lines.findIndex((line) => oldLines.includes(line));
  const kept = lines.filter((line) => !oldLines.includes(line));
  const merged = at < 0 ? [...kept, ...newLines] : [...kept.slice(0, at), ...newLines, ...kept.slice(at)];
  const passed = merged.filter((line) => line.startsWith("- PASS ")).length;
  const block = `${TARGETS_HEADING}\n\n${passed} of ${merged.length} met.\n\n${merged.join("\n")}\n\n`;
  return `${doc.slice(0, start)}${block}${doc.slice(end)}`;
}

/** Adds (or updates) the note under the title naming the re-measured sections. */
function noteRun(doc: string, sections: readonly Section[], context: PartialRunContext): string {
  const names = sections.map((s) => `"${s.heading.slice(3)}"`).join(", ");
  const entry =
    `${names} on ${context.date} by \`${context.command}\` (${context.durationMinutes.toFixed(0)} min; 1-minute load average ` +
    `${context.loadAtStart.toFixed(2)} at the start, ${context.loadAtEnd.toFixed(2)} at the end); every other section is from the run above.`;
  const lines = doc.split("\n");
  const existing = lines.findIndex((line) => line.startsWith(NOTE_PREFIX));
  if (existing >= 0) {
    const previous = (lines[existing] ?? "").slice(NOTE_PREFIX.length).trim().split(" | ");
    const others = previous.filter((item) => !sections.some((s) => item.startsWith(`"${s.heading.slice(3)}"`)));
    lines[existing] = `${NOTE_PREFIX} ${[...others.map((o) => o.replace(/; every other section is from the run above\.$/, ".")), entry].join(" | ")}`;
    return lines.join("\n");
  }
  // After the "Generated by" paragraph (the second block of the file).
  const generated = lines.findIndex((line) => line.startsWith("Generated by "));
  if (generated < 0) throw new Error('docs/benchmarks.md has no "Generated by" line: run the whole bench instead.');
  lines.splice(generated + 1, 0, "", `${NOTE_PREFIX} ${entry}`);
  return lines.join("\n");
}

/** How `updateBenchmarks` treats a section the file does not have. */
export interface UpdateOptions {
  /** Add it (the bench's own benchmark, new since the last full run) instead of refusing it (e.g. a mistyped heading). */
  readonly addMissing?: boolean;
}

/** The published document with `sections` replaced (or, with `addMissing`, added), the target summary updated and the partial run noted. */
export function updateBenchmarks(doc: string, sections: readonly Section[], context: PartialRunContext, options: UpdateOptions = {}): string {
  let next = doc;
  const oldTargets: string[] = [];
  for (const section of sections) {
    const replaced = replaceSection(next, section, options.addMissing);
    next = replaced.doc;
    oldTargets.push(...replaced.oldTargets);
  }
  next = replaceTargets(
    next,
    oldTargets,
    sections.flatMap((s) => targetLines(formatTargets(s.checks))),
  );
  // The running instructions are the bench's own text, kept current with its options.
  const running = runningIt();
  next = replaceSection(next, { heading: running.split("\n")[0] ?? "", body: running.split("\n").slice(2).join("\n"), checks: [] }).doc;
  return noteRun(next, sections, context);
}

/** Reads, updates and writes the file. */
export async function updateBenchmarksFile(path: string, sections: readonly Section[], context: PartialRunContext, options: UpdateOptions = {}): Promise<void> {
  const doc = await readFile(path, "utf8");
  await writeFile(path, updateBenchmarks(doc, sections, context, options), "utf8");
}
