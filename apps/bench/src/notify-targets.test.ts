// Issue 20's notify targets from one run's figures: which checks there are, their bounds, and PASS or MISS.
import { describe, expect, it } from "vitest";
import { notifyTargetChecks, notifyTargetNotes, v3Budget, type NotifyRow, type NotifyTargetInputs, type RowCost } from "./notify-targets.js";

function cost(cpuMicrosPerRequest: number, failures = 0, problems: string[] = []): RowCost {
  return { cpuMicrosPerRequest, failures, problems };
}

function row(dialect: NotifyRow["dialect"], protocol: NotifyRow["protocol"], kind: NotifyRow["kind"], cpu: number, failures = 0): NotifyRow {
  return { dialect, protocol, kind, cost: cost(cpu, failures) };
}

/** The published run before issue 20 (docs/benchmarks.md), with bare crypto of 30 + 5 µs. */
const PUBLISHED: NotifyTargetInputs = {
  bodyRead: cost(64),
  tenpay: cost(315),
  rows: [
    row("sqlite", "v2", "distinct", 542),
    row("sqlite", "v2", "duplicates", 236),
    row("sqlite", "v3", "distinct", 570),
    row("sqlite", "v3", "duplicates", 288),
    row("postgres", "v2", "distinct", 704),
    row("postgres", "v2", "duplicates", 303),
    row("postgres", "v3", "distinct", 771),
    row("postgres", "v3", "duplicates", 372),
  ],
  bare: { verifyMicros: 30, decryptMicros: 5 },
};

describe("notifyTargetChecks", () => {
  it("checks every target of a whole run in a fixed order, with the bound and the measured ratio in each label", () => {
    const checks = notifyTargetChecks(PUBLISHED);
    expect(checks.map((c) => c.label)).toEqual([
      "Notify on SQLite, v2 distinct (persisting): server CPU/req <= 0.60x tenpay's middleware (c) (measured 1.72x: 542 µs / 315 µs)",
      "Notify on SQLite, v2 distinct (persisting): server CPU/req <= 3.50x the body-read ceiling (b) (measured 8.47x: 542 µs / 64 µs)",
      "Notify on SQLite, v2 duplicates: server CPU/req <= 0.33x tenpay's middleware (c) (measured 0.75x: 236 µs / 315 µs)",
      "Notify on SQLite, APIv3 distinct (persisting): server CPU/req <= v2's + one bare RSA-2048 verify + one bare AES-256-GCM decrypt (measured 570 µs against 542 + 30.0 + 5.0 = 577 µs: 0.99x)",
      "Notify on SQLite, APIv3 duplicates: server CPU/req <= v2's + one bare RSA-2048 verify + one bare AES-256-GCM decrypt (measured 288 µs against 236 + 30.0 + 5.0 = 271 µs: 1.06x)",
      "Notify on PostgreSQL, v2 distinct (persisting): server CPU/req <= 0.80x tenpay's middleware (c) (measured 2.23x: 704 µs / 315 µs)",
      "Notify on PostgreSQL, v2 duplicates: server CPU/req <= 0.40x tenpay's middleware (c) (measured 0.96x: 303 µs / 315 µs)",
      "Notify on PostgreSQL, APIv3 distinct (persisting): server CPU/req <= v2's + one bare RSA-2048 verify + one bare AES-256-GCM decrypt (measured 771 µs against 704 + 30.0 + 5.0 = 739 µs: 1.04x)",
      "Notify on PostgreSQL, APIv3 duplicates: server CPU/req <= v2's + one bare RSA-2048 verify + one bare AES-256-GCM decrypt (measured 372 µs against 303 + 30.0 + 5.0 = 338 µs: 1.10x)",
    ]);
    expect(checks.map((c) => c.pass)).toEqual([false, false, false, true, false, false, false, false, false]);
  });

  it("passes every target at its bound exactly, and misses each one just above it", () => {
    // Exact ratios in doubles: a correctly rounded division gives the same double as the bound's literal.
    const at: NotifyTargetInputs = {
      bodyRead: cost(120),
      tenpay: cost(700),
      rows: [
        row("sqlite", "v2", "distinct", 420), // 0.6x (c), 3.5x (b)
        row("sqlite", "v2", "duplicates", 231), // 0.33x (c)
        row("sqlite", "v3", "distinct", 455),
        row("sqlite", "v3", "duplicates", 266),
        row("postgres", "v2", "distinct", 560), // 0.8x (c)
        row("postgres", "v2", "duplicates", 280), // 0.4x (c)
        row("postgres", "v3", "distinct", 595),
        row("postgres", "v3", "duplicates", 315),
      ],
      bare: { verifyMicros: 30, decryptMicros: 5 },
    };
    expect(notifyTargetChecks(at).every((c) => c.pass)).toBe(true);
    const above = (extra: number): NotifyTargetInputs => ({ ...at, rows: at.rows.map((r) => ({ ...r, cost: cost(r.cost.cpuMicrosPerRequest + extra) })) });
    // 1 µs more on every row: every v2 ratio goes over its bound; every v3 row still equals its (also raised) budget.
    expect(notifyTargetChecks(above(1)).map((c) => c.pass)).toEqual([false, false, false, true, true, false, false, true, true]);
    const v3Over: NotifyTargetInputs = { ...at, rows: at.rows.map((r) => (r.protocol === "v3" ? { ...r, cost: cost(r.cost.cpuMicrosPerRequest + 0.5) } : r)) };
    expect(notifyTargetChecks(v3Over).map((c) => c.pass)).toEqual([true, true, true, false, false, true, true, false, false]);
  });

  it("meets the SQLite distinct target against (c) only when (b)'s bound is met too: two separate checks", () => {
    const inputs: NotifyTargetInputs = { bodyRead: cost(30), tenpay: cost(300), rows: [row("sqlite", "v2", "distinct", 150)] };
    const checks = notifyTargetChecks(inputs);
    expect(checks.map((c) => [c.label.includes("(c)"), c.pass])).toEqual([
      [true, true],
      [false, false],
    ]);
    expect(checks[1]?.label).toContain("(measured 5.00x: 150 µs / 30 µs)");
  });

  it("leaves out the targets whose rows did not run, instead of failing them", () => {
    expect(notifyTargetChecks({ ...PUBLISHED, rows: [] })).toEqual([]);
    const onlyDuplicates = notifyTargetChecks({ ...PUBLISHED, rows: [row("postgres", "v2", "duplicates", 100)] });
    expect(onlyDuplicates).toHaveLength(1);
    expect(onlyDuplicates[0]).toEqual({
      label: "Notify on PostgreSQL, v2 duplicates: server CPU/req <= 0.40x tenpay's middleware (c) (measured 0.32x: 100 µs / 315 µs)",
      pass: true,
    });
    // An APIv3 row is checked against its own database's and kind's v2 row only.
    expect(
      notifyTargetChecks({ ...PUBLISHED, rows: [row("sqlite", "v3", "distinct", 100), row("postgres", "v2", "distinct", 50), row("sqlite", "v2", "duplicates", 50)] }),
    ).toHaveLength(2);
    // Without the bare crypto there is no APIv3 budget.
    const { bare: _bare, ...withoutBare } = PUBLISHED;
    expect(notifyTargetChecks(withoutBare).filter((c) => c.label.includes("APIv3"))).toEqual([]);
  });

  it("misses a target whose row, reference or v2 row had failed requests or failed checks, whatever the figure", () => {
    const fast = row("sqlite", "v2", "duplicates", 10, 3);
    const [dirty] = notifyTargetChecks({ ...PUBLISHED, rows: [fast] });
    expect(dirty).toEqual({
      label: "Notify on SQLite, v2 duplicates: server CPU/req <= 0.33x tenpay's middleware (c) (measured 0.03x: 10 µs / 315 µs; not a clean run: 3 failed requests)",
      pass: false,
    });
    const [badReference] = notifyTargetChecks({ ...PUBLISHED, tenpay: cost(315, 0, ["wrong body"]), rows: [row("sqlite", "v2", "duplicates", 10)] });
    expect(badReference?.pass).toBe(false);
    expect(badReference?.label).toContain("not a clean run: 1 failed checks");
    const v3 = notifyTargetChecks({
      ...PUBLISHED,
      rows: [{ ...row("postgres", "v2", "distinct", 100), cost: cost(100, 0, ["3 payment events for 4 acknowledged notifies"]) }, row("postgres", "v3", "distinct", 50)],
    }).find((c) => c.label.includes("APIv3"));
    expect(v3?.pass).toBe(false);
    const [noFigure] = notifyTargetChecks({ ...PUBLISHED, rows: [row("sqlite", "v2", "duplicates", Number.NaN)] });
    expect(noFigure).toEqual({ label: expect.stringContaining("measured n/a") as string, pass: false });
    expect(noFigure?.label).toContain("no CPU figure");
  });

  it("misses the APIv3 targets when the bare crypto has no figure", () => {
    const checks = notifyTargetChecks({ ...PUBLISHED, bare: { verifyMicros: Number.NaN, decryptMicros: 5 } }).filter((c) => c.label.includes("APIv3"));
    expect(checks).toHaveLength(4);
    expect(checks.every((c) => !c.pass)).toBe(true);
  });
});

describe("v3Budget", () => {
  it("is the v2 row's CPU per request plus one verification and one decryption", () => {
    expect(v3Budget(cost(200), { verifyMicros: 31.5, decryptMicros: 4.5 })).toBe(236);
  });
});

describe("notifyTargetNotes", () => {
  it("reports PostgreSQL's distinct notify against (b) for information, and APIv3 rows that could not be checked", () => {
    expect(notifyTargetNotes(PUBLISHED)).toEqual([
      "- PostgreSQL, v2 distinct: 11.00x the CPU per request of the body-read ceiling (b) (704 µs / 64 µs), for information: the issue bounds (b) on SQLite only.",
    ]);
    expect(notifyTargetNotes({ ...PUBLISHED, rows: [row("sqlite", "v3", "duplicates", 300)] })).toEqual([
      "- SQLite, APIv3 duplicates: not checked, its v2 row did not run in this run.",
    ]);
    expect(notifyTargetNotes({ ...PUBLISHED, rows: [row("sqlite", "v2", "distinct", 300)] })).toEqual([]);
  });
});
