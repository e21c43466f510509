/**
 * The one way options are read: each option that takes a value gets a typed parser here, which
 * refuses a bad value with a coded INVALID_ARGUMENT naming the option and showing what it takes.
 * Commands build their options from these, so commander infers each option's type.
 */
import { Option } from '@commander-js/extra-typings';
import { ModelManagerError, isModelManagerError } from '../errors.js';
import { parseCount, parseSize, parseTokenCount } from '../units.js';

export interface Range {
  /** Smallest value allowed. Defaults to 0 (sizes: 1). */
  min?: number;
  /** Largest value allowed. Defaults to none. */
  max?: number;
  /** A value to show in the hint, e.g. `20` or `7B`. Defaults to one fitting the kind of number. */
  example?: string;
}

function invalid(name: string, value: string, takes: string): ModelManagerError {
  return new ModelManagerError('INVALID_ARGUMENT', `${name} takes ${takes}, not "${value}"`, { details: { option: name, value } });
}

function rangeText({ min = 0, max }: Range): string {
  if (max !== undefined) return `from ${min} to ${max}`;
  return min === 0 ? 'of 0 or more' : `of ${min} or more`;
}

/** An option whose value `parse` turns into a T; `parse` gets the option's name (e.g. `--limit`) for its message. */
export function parsedOption<S extends string, T>(flags: S, description: string, parse: (value: string, name: string) => T) {
  const option = new Option(flags, description);
  const name = option.long ?? option.short ?? flags;
  return option.argParser((value: string) => {
    try {
      return parse(value, name);
    } catch (error) {
      // A parser from elsewhere (devices, keep-alive) speaks of the value; say which option it came in.
      if (isModelManagerError(error) && !error.message.startsWith(name)) {
        throw new ModelManagerError(error.code, `${name}: ${error.message}`, { cause: error, details: { ...error.details, option: name, value } });
      }
      throw error;
    }
  });
}

/** A whole number within a range; suffixes allowed (`--limit 20`, `--min-params 7B`, `--shots 5`). */
export function countOption<S extends string>(flags: S, description: string, range: Range = {}) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  return parsedOption(flags, description, (value, name) => {
    const n = parseCount(value);
    if (n === undefined || !Number.isSafeInteger(n) || n < min || n > max) {
      throw invalid(name, value, `a whole number ${rangeText(range)}, e.g. ${range.example ?? String(Math.max(min, 1))}`);
    }
    return n;
  });
}

/** A number, fractions allowed, within a range (`--temperature 0.7`). */
export function decimalOption<S extends string>(flags: S, description: string, range: Range = {}) {
  const { min = 0, max = Number.MAX_VALUE } = range;
  return parsedOption(flags, description, (value, name) => {
    const n = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw invalid(name, value, `a number ${rangeText(range)}, e.g. ${range.example ?? '0.7'}`);
    return n;
  });
}

/** Bytes, as people write sizes (`--fits 16GB`, `--memory-budget 8GiB`); whole bytes of at least 1 by default. */
export function sizeOption<S extends string>(flags: S, description: string, range: Range = {}) {
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = range;
  return parsedOption(flags, description, (value, name) => {
    const n = parseSize(value);
    if (n === undefined || n < min || n > max) {
      throw invalid(name, value, `a size ${rangeText({ ...range, min })} bytes, e.g. ${range.example ?? '16GB, 512MiB or 8e9'}`);
    }
    return Math.round(n);
  });
}

/** Tokens, counted as model cards do (`--context 8K` = 8192); at least 1 by default. */
export function tokensOption<S extends string>(flags: S, description: string, range: Range = {}) {
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = range;
  return parsedOption(flags, description, (value, name) => {
    const n = parseTokenCount(value);
    if (n === undefined || !Number.isSafeInteger(n) || n < min || n > max) {
      throw invalid(name, value, `a whole number of tokens ${rangeText({ ...range, min })}, e.g. ${range.example ?? '8K (8192) or 4096'}`);
    }
    return n;
  });
}

/** A TCP port: 0 (any free one) to 65535. */
export function portOption<S extends string>(flags: S, description: string) {
  return countOption(flags, description, { min: 0, max: 65_535, example: '8080 (0 picks a free one)' });
}

/** One of a fixed set of words, compared without regard to case. */
export function choiceOption<S extends string, const C extends readonly string[]>(flags: S, description: string, choices: C) {
  return parsedOption(flags, description, (value, name): C[number] => {
    const found = choices.find((c) => c.toLowerCase() === value.trim().toLowerCase());
    if (found === undefined) {
      throw new ModelManagerError('INVALID_ARGUMENT', `${name} must be one of ${choices.join(', ')}, not "${value}"`, { details: { option: name, value } });
    }
    return found;
  });
}

/** A repeatable option; commas also separate values (`--tag chat --tag code`, `--format gguf,onnx`). */
export function listOption<S extends string>(flags: S, description: string) {
  return new Option(flags, description).argParser((value: string, previous: string[] | undefined) => [
    ...(previous ?? []),
    ...value.split(',').map((v) => v.trim()).filter(Boolean),
  ]);
}

/** A repeatable option whose values are kept as given, commas and all (`--include '*.{json,txt}'`). */
export function repeatedOption<S extends string>(flags: S, description: string) {
  return new Option(flags, description).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}
