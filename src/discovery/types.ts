/**
 * The shapes discovery passes around and returns (ScanReport, DiscoveryStatus, ... are part of
 * the contract the server codes against).
 */
import type { DiscoverySettings } from './settings.js';

/** How a model sits on disk. */
export type UnitKind = 'hf-folder' | 'gguf' | 'onnx' | 'weights-file' | 'safetensors' | 'ggml' | 'hf-cache' | 'ollama' | 'plugin';

/** What a file is to its model. */
export type FileRole = 'weights' | 'config' | 'tokenizer' | 'readme' | 'metadata' | 'manifest' | 'other';

export interface FoundFile {
  path: string;
  size: number;
  mtimeMs: number;
  role: FileRole;
  /** The file's sha256 where the store's layout names it (an HF cache blob, an Ollama digest): never computed from the bytes. */
  sha256?: string;
}

/** One model found on disk, before its headers are read. */
export interface ModelUnit {
  kind: UnitKind;
  /** The folder or file that is the model (stored as `localPath`). */
  localPath: string;
  /** The root it was found under. */
  root: string;
  /** The id it gets unless the registry already knows it under another. */
  idHint: string;
  files: FoundFile[];
  /** The discovery plugin that claimed the file, for `plugin` units. */
  plugin?: string;
  /** Ollama manifest facts, for `ollama` units. */
  ollama?: { name: string; tag: string; layers: { mediaType: string; path: string }[] };
}

export interface ScanWarning {
  path: string;
  reason: string;
}

export interface ScanCounts {
  /** Models found on disk. */
  scanned: number;
  added: number;
  updated: number;
  /** Found with the same files as last time: not read again. */
  unchanged: number;
  /** Registered models whose files are gone (marked `missing`). */
  missing: number;
  warnings: number;
}

export interface ScanSummary {
  scanId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  roots: string[];
  counts: ScanCounts;
  /** Bytes read from model files (headers, configs) in this scan. */
  bytesRead: number;
  /** Most bytes read for any one model in this scan. */
  maxModelBytesRead: number;
  /** Where the time went: walking folders, reading headers, writing the registry. */
  phasesMs: { walk: number; read: number; registry: number };
  /** Header reader threads at the end of the scan (0: read on the main thread; more are added while reads wait on the disk). */
  readerThreads?: number;
}

export interface ScanReport extends ScanSummary {
  warnings: ScanWarning[];
  /** Ids of the models found in this scan that the registry holds (one that could not be added is a warning, not an id). */
  modelIds: string[];
}

export interface ScanLogEntry {
  at: string;
  level: 'info' | 'warn' | 'error';
  path?: string;
  message: string;
  scanId: string;
}

export interface DiscoveryStatus {
  running: boolean;
  lastScan?: ScanSummary;
  /** When the periodic scan runs next (after `start()`). */
  nextScanAt?: string;
  roots: string[];
  settings: DiscoverySettings;
}

export interface ValidationCheck {
  name: string;
  ok: boolean;
  message: string;
}

export interface ValidationReport {
  modelId: string;
  ok: boolean;
  checks: ValidationCheck[];
}

export interface ScanProgress {
  done: number;
  total?: number;
  path: string;
}
