export {
  camelCase,
  camelizeKeys,
  readIndexed,
  snakeCase,
  snakeizeKeys,
  wireCompactTime,
  wireCurrency,
  wireDashedTime,
  wireInt,
  WireStatusSchema,
  wireString,
  type Camelize,
} from "./fields.js";
export { formatCompactBeijingTime, formatDashedBeijingTime, parseBeijingTime } from "./time.js";
