/**
 * Reading the word list file: one word (or phrase) per line, `#` starts a comment
 * line, blank lines are ignored, UTF-8 (a BOM is tolerated, invalid UTF-8 is an error
 * rather than silently turning words into U+FFFD).
 */
import { readFile } from 'node:fs/promises';

/** Lines longer than this are refused: a word list is not a place for paragraphs. */
export const MAX_WORD_LENGTH = 256;

export class WordListError extends Error {
  override readonly name = 'WordListError';
  constructor(
    message: string,
    readonly missing = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function parseWordList(content: string): string[] {
  const words: string[] = [];
  const lines = content.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((line, i) => {
    const word = line.trim();
    if (word === '' || word.startsWith('#')) return;
    if (word.length > MAX_WORD_LENGTH) {
      throw new WordListError(`line ${i + 1} is longer than ${MAX_WORD_LENGTH} characters`);
    }
    words.push(word);
  });
  return words;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readWordList(path: string): Promise<string[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    throw new WordListError(`cannot read ${path}: ${code ?? String(err)}`, missing, { cause: err });
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (err) {
    throw new WordListError(`${path} is not valid UTF-8`, false, { cause: err });
  }
  if (text.includes('\0')) throw new WordListError(`${path} contains NUL bytes (not a text file)`);
  return parseWordList(text);
}
