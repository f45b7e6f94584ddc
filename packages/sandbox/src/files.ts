import { chmod, writeFile } from "node:fs/promises";

/** A file anyone on the machine may read (certificates, public keys): mode 0644. */
export async function writePublic(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o644 });
}

/** A file only its owner may read (private keys, p12 files): mode 0600, even over an older, looser file. */
export async function writeSecret(path: string, content: string | Buffer): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  // writeFile's mode applies only to a new file; an older, looser file keeps its mode otherwise.
  await chmod(path, 0o600);
}
