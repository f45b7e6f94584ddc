export {
  checkV3BillSha1,
  parseV3TradeBill,
  readV3BillFile,
  V3_BILL_FILE_ERROR_CODES,
  V3_BILL_MAX_BYTES,
  type ReadV3BillFileOptions,
  type V3BillErrorCode,
  type V3BillFileErrorCode,
} from "./bill-file.js";
export {
  buildV3BillDownload,
  buildV3FundFlowBill,
  buildV3TradeBill,
  V3_BILL_TAR_TYPES,
  V3_FUND_FLOW_ACCOUNT_TYPES,
  V3_TRADE_BILL_TYPES,
  V3BillAnswerSchema,
  V3BillDateSchema,
  V3FundFlowBillRequestSchema,
  V3TradeBillRequestSchema,
  type BuildV3BillDownloadOptions,
  type V3BillAnswer,
  type V3BillTarType,
  type V3FundFlowAccountType,
  type V3FundFlowBillRequest,
  type V3TradeBillRequest,
  type V3TradeBillType,
} from "./bill-request.js";
export {
  parseV3FundFlowBill,
  V3_FUND_FLOW_AMOUNT_COLUMNS,
  V3_FUND_FLOW_SUMMARY_COLUMNS,
  V3_FUND_FLOW_TEXT_COLUMNS,
  type V3FundFlowBill,
  type V3FundFlowRow,
  type V3FundFlowSummary,
} from "./fund-flow.js";
export { readV3BillStream, type ReadV3BillStreamOptions, type V3BillStream } from "./bill-stream.js";
