// Types for the parts of mailauth 4.x's DKIM signer that dkim-sign.ts uses (the package ships
// typings only for its entry points). Internal modules: the versions are pinned by package-lock,
// and test/domains/dkim-sign.test.ts compares our signatures byte for byte with mailauth's dkimSign.

declare module 'mailauth/lib/dkim/message-parser.js' {
  import { Writable } from 'node:stream';
  export interface ParsedHeader { key: string; casedKey: string; line: Buffer }
  export interface ParsedHeaders { parsed: ParsedHeader[]; original: Buffer }
  /** Splits a message written to it into its header block and body chunks; subclasses override the hooks. */
  export class MessageParser extends Writable {
    messageHeaders(headers: ParsedHeaders): Promise<void>;
    nextChunk(chunk: Buffer): Promise<void>;
    finalChunk(): Promise<void>;
    /** Called with each line-break-normalised piece written; splits the header block off. */
    processChunk(chunk: Buffer): Promise<void>;
    /** At the end of the message (a message without a header end is all header). */
    finish(): Promise<void>;
  }
}

declare module 'mailauth/lib/dkim/body/index.js' {
  export interface BodyHash { update(chunk: Buffer): void; digest(encoding: 'base64'): string }
  export function dkimBody(canonicalization: string, hashAlgo: string, maxBodyLength: number | false): BodyHash;
}

declare module 'mailauth/lib/dkim/header/index.js' {
  import type { SigningHeaderLines } from 'mailauth/lib/tools.js';
  export function generateCanonicalizedHeader(type: 'DKIM', lines: SigningHeaderLines, options: {
    signingDomain: string; selector: string; algorithm: string; canonicalization: string; bodyHash: string; signTime?: Date;
  }): { canonicalizedHeader: Buffer; dkimHeaderOpts: Record<string, unknown> };
}

declare module 'mailauth/lib/tools.js' {
  import type { Writable } from 'node:stream';
  import type { ParsedHeader } from 'mailauth/lib/dkim/message-parser.js';
  export interface SigningHeaderLines { keys: string; headers: ParsedHeader[] }
  export function getSigningHeaderLines(parsed: ParsedHeader[], fieldNames: string): SigningHeaderLines;
  export function formatSignatureHeaderLine(type: 'DKIM', values: Record<string, unknown>, folded: boolean): string;
  export function writeToStream(stream: Writable, input: Buffer | NodeJS.ReadableStream): Promise<void>;
}
