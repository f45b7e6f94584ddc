export { buildXml, type XmlValue } from "./build.js";
export { DEFAULT_MAX_XML_BYTES, parseXml, parseXmlFlat, XML_ERROR_CODES, type FlatXml, type ParseXmlOptions, type XmlErrorCode, type XmlFields, type XmlRoot } from "./parse.js";
