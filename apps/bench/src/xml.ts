// XML: parse (+ verify) of a realistic pay notify, @pay/core's flat codec against general parsers.
import { isDeepStrictEqual } from "node:util";
import { parsePayNotify, parseXml, verifySign, type VerifyOptions } from "@pay/core";
import { XMLParser } from "fast-xml-parser";
import Tenpay from "tenpay";
import xml2js from "xml2js";
import { MERCHANT } from "./data/merchant.js";
import { signedPayNotify } from "./data/notifies.js";
import { measureInterleaved, type HarnessOptions, type Measurement, type TimedContender } from "./harness.js";
import { formatCount, formatRatio, markdownTable, type Section, type TargetCheck } from "./markdown.js";

const FULL: HarnessOptions = { batch: 10_000, rounds: 15, warmupRounds: 3 };
const QUICK: HarnessOptions = { batch: 2_000, rounds: 3, warmupRounds: 1 };

/** "Several times faster" taken as at least this, for the flat codec against fast-xml-parser's parse alone. */
const MIN_CODEC_SPEEDUP = 3;

const VERIFY: VerifyOptions = { key: MERCHANT.key, signType: MERCHANT.signType };

type Fields = Record<string, string>;

/** A contender that turns the notify body into its fields (and, for some, checks the signature). */
interface XmlContender {
  readonly name: string;
  readonly verifies: boolean;
  /** One parse, to check that every contender reads the same fields before timing. */
  parse(): Fields | Promise<Fields>;
  /** Parses `ops` times; returns the summed field counts so the work cannot be optimised away. */
  run(ops: number): number | Promise<number>;
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

// As with signing, each contender writes its own loop so that every timed call site has one target.

function coreParseXml(body: Buffer): XmlContender {
  return {
    name: "@pay/core parseXml (parse only)",
    verifies: false,
    parse: () => unwrap(parseXml(body)),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += Object.keys(unwrap(parseXml(body))).length;
      return total;
    },
  };
}

function coreParseAndVerify(body: Buffer): XmlContender {
  return {
    name: "@pay/core parseXml + verifySign",
    verifies: true,
    parse: () => {
      const fields = unwrap(parseXml(body));
      unwrap(verifySign(fields, VERIFY));
      return fields;
    },
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) {
        const fields = unwrap(parseXml(body));
        unwrap(verifySign(fields, VERIFY));
        total += Object.keys(fields).length;
      }
      return total;
    },
  };
}

function coreParsePayNotify(body: Buffer): XmlContender {
  const options = { ...VERIFY, inferSignType: true };
  return {
    name: "@pay/core parsePayNotify (parse + verify + typed fields)",
    verifies: true,
    parse: () => ({ ...unwrap(parsePayNotify(body, options)).raw }),
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += Object.keys(unwrap(parsePayNotify(body, options)).raw).length;
      return total;
    },
  };
}

function fastXmlParser(body: Buffer, verify: boolean): XmlContender {
  // The options that keep values exact: no number parsing ("0001" stays "0001"), no trimming.
  const parser = new XMLParser({ parseTagValue: false, trimValues: false });
  const read = (): Fields => (parser.parse(body) as { xml: Fields }).xml;
  return {
    name: verify ? "fast-xml-parser 5.12.1 + @pay/core verifySign" : "fast-xml-parser 5.12.1 (parse only)",
    verifies: verify,
    parse: () => {
      const fields = read();
      if (verify) unwrap(verifySign(fields, VERIFY));
      return fields;
    },
    run: verify
      ? (ops) => {
          let total = 0;
          for (let i = 0; i < ops; i++) {
            const fields = read();
            unwrap(verifySign(fields, VERIFY));
            total += Object.keys(fields).length;
          }
          return total;
        }
      : (ops) => {
          let total = 0;
          for (let i = 0; i < ops; i++) total += Object.keys(read()).length;
          return total;
        },
  };
}

function xml2jsParse(text: string): XmlContender {
  // tenpay's options. xml2js calls back synchronously (async: false is its default).
  const options = { trim: true, explicitArray: false, explicitRoot: false };
  const read = (): Fields => {
    let fields: Fields | undefined;
    xml2js.parseString(text, options, (error: Error | null, result: Fields) => {
      if (error !== null) throw error;
      fields = result;
    });
    if (fields === undefined) throw new Error("xml2js did not call back synchronously.");
    return fields;
  };
  return {
    name: "xml2js 0.6.2 (parse only, tenpay's options)",
    verifies: false,
    parse: read,
    run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += Object.keys(read()).length;
      return total;
    },
  };
}

function tenpayParse(text: string): XmlContender {
  const payment = new Tenpay({ appid: MERCHANT.appId, mchid: MERCHANT.mchId, partnerKey: MERCHANT.key });
  return {
    name: "tenpay 2.1.18 notify check (its xml2js 0.4.23 + verify, async)",
    verifies: true,
    parse: () => payment._parse(text, "middleware_pay"),
    async run(ops) {
      let total = 0;
      for (let i = 0; i < ops; i++) total += Object.keys(await payment._parse(text, "middleware_pay")).length;
      return total;
    },
  };
}

async function timedContenders(contenders: readonly XmlContender[]): Promise<TimedContender[]> {
  const reference = await contenders[0]?.parse();
  if (reference === undefined) throw new Error("No XML contender.");
  const timed: TimedContender[] = [];
  for (const contender of contenders) {
    const fields = await contender.parse();
    // Compare as plain objects: @pay/core's fields have no prototype.
    if (!isDeepStrictEqual({ ...fields }, { ...reference })) {
      throw new Error(`${contender.name} reads different fields than @pay/core: the contenders do not parse the same document.`);
    }
    timed.push({ name: contender.name, unit: Object.keys(fields).length, run: (ops) => contender.run(ops) });
  }
  return timed;
}

/** The `## XML` section. */
export async function benchXml(quick: boolean): Promise<Section> {
  const options = quick ? QUICK : FULL;
  const text = signedPayNotify(1);
  const body = Buffer.from(text, "utf8");
  const contenders = [
    coreParseXml(body),
    coreParseAndVerify(body),
    coreParsePayNotify(body),
    fastXmlParser(body, false),
    fastXmlParser(body, true),
    xml2jsParse(text),
    tenpayParse(text),
  ];
  const measured = await measureInterleaved(await timedContenders(contenders), options);
  const byName = (name: string): Measurement => {
    const found = measured.find((m) => m.name === name);
    if (found === undefined) throw new Error(`No measurement for ${name}.`);
    return found;
  };
  const fxp = byName(contenders[3]?.name ?? "");
  const coreParse = byName(contenders[0]?.name ?? "");
  const coreNotify = byName(contenders[2]?.name ?? "");
  const xml2 = byName(contenders[5]?.name ?? "");
  const tenpayFull = byName(contenders[6]?.name ?? "");
  const rows = contenders.map((contender) => {
    const m = byName(contender.name);
    return [contender.name, contender.verifies ? "yes" : "no", formatCount(m.medianOpsPerSec), formatRatio(m.medianOpsPerSec / fxp.medianOpsPerSec)];
  });
  const codecSpeedup = coreParse.medianOpsPerSec / fxp.medianOpsPerSec;
  const checks: TargetCheck[] = [
    {
      label: `XML: @pay/core's flat codec several times (>= ${MIN_CODEC_SPEEDUP}x) faster than fast-xml-parser's parse alone (measured ${formatRatio(codecSpeedup)})`,
      pass: codecSpeedup >= MIN_CODEC_SPEEDUP,
    },
    {
      label: `XML: parsePayNotify (parse + verify + types) faster than fast-xml-parser's parse alone (${formatRatio(coreNotify.medianOpsPerSec / fxp.medianOpsPerSec)})`,
      pass: coreNotify.medianOpsPerSec > fxp.medianOpsPerSec,
    },
    {
      label: `XML: parsePayNotify faster than xml2js's parse alone (${formatRatio(coreNotify.medianOpsPerSec / xml2.medianOpsPerSec)}) and than tenpay's notify check (${formatRatio(coreNotify.medianOpsPerSec / tenpayFull.medianOpsPerSec)})`,
      pass: coreNotify.medianOpsPerSec > xml2.medianOpsPerSec && coreNotify.medianOpsPerSec > tenpayFull.medianOpsPerSec,
    },
  ];
  const sectionBody = [
    `Input: one signed HMAC-SHA256 pay notify as the gateway sends it (${body.length} bytes, ${Object.keys(unwrap(parseXml(body))).length} fields: ` +
      `two coupons, CJK \`attach\`, text in CDATA). In one process, ${options.rounds} rounds (after ${options.warmupRounds} warm-up rounds) ` +
      `of ${options.batch.toLocaleString("en-US")} parses per contender, rotating the order; medians. Every contender is checked to read ` +
      `the same fields as @pay/core before timing. fast-xml-parser runs with \`parseTagValue: false, trimValues: false\` (exact values); ` +
      `xml2js with tenpay's options. tenpay pins xml2js 0.4.23; its row is its own notify check (\`_parse(xml, "middleware_pay")\`: ` +
      `parse, return/result codes, appid, mch_id, signature), awaited as its middleware does.`,
    "",
    markdownTable(["contender", "verifies sign", "ops/s (median)", "ratio to fast-xml-parser alone"], rows),
  ].join("\n");
  return { heading: "## XML", body: sectionBody, checks };
}
