import { readFileSync } from "node:fs";
import { createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import { loadV3MerchantPrivateKey, PayCoreError } from "@pay/core";
import { ConfigError, type V3Config } from "./env.js";

/** The APIv3 section with its key files read and parsed: what a v3 gateway is built from. */
export interface V3Credentials extends Omit<V3Config, "merchantKeyPath" | "merchantCertPath" | "merchantSerialNo" | "publicKey"> {
  /** The merchant API private key (RSA, at least 2048 bits). Never logged. */
  readonly merchantPrivateKey: KeyObject;
  /** The merchant API certificate's serial, upper-case hex: `serial_no` of every Authorization header. */
  readonly merchantSerial: string;
  /** The WeChat Pay public key and its ID, in the shape createV3KeyStore's `publicKeys` takes. */
  readonly publicKey: { readonly id: string; readonly publicKey: KeyObject } | undefined;
}

/** Reads a configured file as text; the default reads the disk. */
export type ReadConfigFile = (path: string) => string;

const readFromDisk: ReadConfigFile = (path) => readFileSync(path, "utf8");

function readNamed(variable: string, path: string, read: ReadConfigFile): string {
  try {
    return read(path);
  } catch (error) {
    throw new ConfigError(`${variable} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"}): ${path}`);
  }
}

function merchantPrivateKey(pem: string): KeyObject {
  try {
    return loadV3MerchantPrivateKey(pem);
  } catch (error) {
    // Core's messages say what is wrong without quoting key material.
    if (error instanceof PayCoreError) throw new ConfigError(`WXPAY_CERT_KEY_PATH is not a usable merchant API private key: ${error.message}`);
    throw error;
  }
}

function merchantCertificate(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new ConfigError("WXPAY_CERT_PATH is not a PEM X.509 certificate (apiclient_cert.pem)");
  }
}

function wechatPayPublicKey(pem: string, merchantKey: KeyObject): KeyObject {
  // createPublicKey would quietly take a private key or a certificate; wxp_pub.pem is a public key.
  if (!/-----BEGIN (?:RSA )?PUBLIC KEY-----/.test(pem) || pem.includes("PRIVATE KEY-----")) {
    throw new ConfigError("WXPAY_PUBLIC_KEY_PATH must hold the WeChat Pay public key (wxp_pub.pem, BEGIN PUBLIC KEY)");
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: "pem" });
  } catch {
    throw new ConfigError("WXPAY_PUBLIC_KEY_PATH is not a readable PEM public key (wxp_pub.pem)");
  }
  if (key.asymmetricKeyType !== "rsa" || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError("WXPAY_PUBLIC_KEY_PATH must be an RSA public key of at least 2048 bits");
  }
  if (key.equals(createPublicKey(merchantKey))) {
    throw new ConfigError("WXPAY_PUBLIC_KEY_PATH holds the merchant's own public key; it must be WeChat Pay's (wxp_pub.pem from the merchant platform)");
  }
  return key;
}

/**
 * Reads and checks the APIv3 key files at start: the merchant private key, its serial (from the certificate,
 * or WXPAY_CERT_SERIAL_NO, which must agree with the certificate when both are set) and the WeChat Pay public
 * key. Throws ConfigError naming the variable, never quoting key material.
 */
export function loadV3Credentials(config: V3Config, read: ReadConfigFile = readFromDisk): V3Credentials {
  const privateKey = merchantPrivateKey(readNamed("WXPAY_CERT_KEY_PATH", config.merchantKeyPath, read));
  let merchantSerial: string;
  if (config.merchantCertPath !== undefined) {
    const certificate = merchantCertificate(readNamed("WXPAY_CERT_PATH", config.merchantCertPath, read));
    if (!certificate.checkPrivateKey(privateKey)) {
      throw new ConfigError("WXPAY_CERT_KEY_PATH does not match the certificate in WXPAY_CERT_PATH: use the apiclient_key.pem issued with that apiclient_cert.pem");
    }
    merchantSerial = certificate.serialNumber.toUpperCase();
    if (config.merchantSerialNo !== undefined && config.merchantSerialNo !== merchantSerial) {
      throw new ConfigError(`WXPAY_CERT_SERIAL_NO does not match the serial of the certificate in WXPAY_CERT_PATH (${merchantSerial})`);
    }
  } else if (config.merchantSerialNo !== undefined) {
    merchantSerial = config.merchantSerialNo;
  } else {
    throw new ConfigError("WXPAY_CERT_SERIAL_NO or WXPAY_CERT_PATH is required for APIv3");
  }
  const publicKey =
    config.publicKey === undefined
      ? undefined
      : { id: config.publicKey.id, publicKey: wechatPayPublicKey(readNamed("WXPAY_PUBLIC_KEY_PATH", config.publicKey.path, read), privateKey) };
  return {
    account: config.account,
    apiV3Key: config.apiV3Key,
    merchantPrivateKey: privateKey,
    merchantSerial,
    publicKey,
    platformCertificates: config.platformCertificates,
    mode: config.mode,
    merchantCategoryCode: config.merchantCategoryCode,
    allowHttpNotifyUrl: config.allowHttpNotifyUrl,
  };
}
