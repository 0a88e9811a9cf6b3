import { readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, JournalCorruptError, JournalWriteError } from '../../../local/engine/journal.ts';
import { removeDir, tempDir } from './helpers.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function dir(): string {
  const path = tempDir();
  cleanups.push(() => removeDir(path));
  return path;
}

const keep = <T>(records: T[]) => records;

/** A disk that fills up when told: the failing write gets half its bytes out first, as a real one can. */
function fillingDisk() {
  let full = false;
  return {
    fill() {
      full = true;
    },
    free() {
      full = false;
    },
    writeSync(fd: number, buffer: Buffer, offset: number): number {
      if (!full) return writeSync(fd, buffer, offset);
      const half = Math.floor((buffer.length - offset) / 2);
      if (half > 0) writeSync(fd, buffer, offset, half);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  };
}

describe('Journal.open', () => {
  it('drops a torn last line (a crash mid-write) and writes the file back whole, mode 0600', () => {
    const path = dir();
    const file = join(path, 'journal.ndjson');
    writeFileSync(file, '{"n":1}\n{"n":2}\n{"n":3,"cut');
    const { journal, records, torn } = Journal.open(path, keep);
    journal.close();
    expect(records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(torn).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('stops at a corrupt line before the last, naming the file and the line, and leaves the file as it was', () => {
    const path = dir();
    const file = join(path, 'journal.ndjson');
    const text = '{"n":1}\n{"n":2,"garbled\n{"n":3}\n';
    writeFileSync(file, text);
    let error: unknown;
    try {
      Journal.open(path, keep);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect((error as Error).message).toContain(`${file} line 2 is not a journal record`);
    expect((error as Error).message).toContain(`mv ${file} ${file}.corrupt`);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('counts a whole line that is JSON but not a record as corrupt', () => {
    const path = dir();
    writeFileSync(join(path, 'journal.ndjson'), '{"n":1}\nnull\n{"n":3}\n');
    expect(() => Journal.open(path, keep)).toThrow(/line 2 is not a journal record/);
  });
});

describe('Journal writes on a full disk', () => {
  it('fails closed: cuts the partial batch off, rejects what waits, and never appends after it', async () => {
    const path = dir();
    const file = join(path, 'journal.ndjson');
    const disk = fillingDisk();
    const failures: Error[] = [];
    const { journal } = Journal.open(path, keep, {
      writeSync: disk.writeSync,
      onFailure: (error) => failures.push(error),
    });
    journal.append({ n: 1 });
    await journal.flushed();
    const before = readFileSync(file, 'utf8');
    expect(before).toBe('{"n":1}\n');

    disk.fill();
    journal.append({ n: 2, padding: 'x'.repeat(100) });
    const pending = journal.flushed();
    await expect(pending).rejects.toBeInstanceOf(JournalWriteError);
    await expect(pending).rejects.toThrow(`cannot write ${file} (ENOSPC)`);
    expect(failures).toHaveLength(1);
    expect(journal.failed).toBe(failures[0]);
    // The half-written line is gone: the file ends with the last whole one.
    expect(readFileSync(file, 'utf8')).toBe(before);

    // Space comes back, but the journal stays stopped: nothing is glued onto what was cut.
    disk.free();
    journal.append({ n: 3 });
    await expect(journal.flushed()).rejects.toBe(failures[0]);
    journal.close();
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(failures).toHaveLength(1);

    const reopened = Journal.open(path, keep);
    reopened.journal.close();
    expect(reopened.records).toEqual([{ n: 1 }]);
    expect(reopened.torn).toBe(0);
  });

  it('leaves the journal unchanged when compaction at start cannot write', () => {
    const path = dir();
    const file = join(path, 'journal.ndjson');
    writeFileSync(file, '{"n":1}\n{"n":2}\n');
    const disk = fillingDisk();
    disk.fill();
    expect(() => Journal.open(path, keep, { writeSync: disk.writeSync })).toThrow(
      `cannot compact ${file} (ENOSPC)`,
    );
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });
});
