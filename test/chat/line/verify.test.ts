import { validateSignature } from '@line/bot-sdk';
import { describe, expect, it } from 'vitest';
import { lineSignature, verifyLineRequest } from '../../../chat/line/verify.ts';
import { InvalidInputError, UnauthenticatedError } from '../../../core/errors.ts';
import { lineTextEvent, lineWebhook, signedLineRequest, signLineBody } from '../../fakes/line.ts';
import { example, signatureVectors } from './helpers.ts';

const SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

describe('verifyLineRequest', () => {
  it('matches every published and independently computed vector', () => {
    for (const v of signatureVectors()) {
      expect(lineSignature(v.body, v.channelSecret), v.name).toBe(v.signature);
      expect(signLineBody(v.body, v.channelSecret), v.name).toBe(v.signature);
      // The SDK agrees with us and with the vectors.
      expect(validateSignature(v.body, v.channelSecret, v.signature), v.name).toBe(true);
    }
  });

  it('accepts a correctly signed body and returns it parsed', () => {
    for (const v of signatureVectors()) {
      const body = verifyLineRequest(
        signedLineRequest(v.body, v.channelSecret, { signature: v.signature }),
        v.channelSecret,
      );
      expect(body).toEqual(JSON.parse(v.body));
    }
  });

  it('accepts a body with multi-byte characters (signature over UTF-8 bytes)', () => {
    const body = JSON.stringify(lineWebhook([lineTextEvent('環境佈署清單 🚀')]));
    expect(verifyLineRequest(signedLineRequest(body, SECRET), SECRET)).toEqual(JSON.parse(body));
  });

  it('rejects a missing signature', () => {
    const request = signedLineRequest(example('textFromUser'), SECRET, { signature: null });
    expect(() => verifyLineRequest(request, SECRET)).toThrow(UnauthenticatedError);
    expect(() => verifyLineRequest(request, SECRET)).toThrow(/not signed/);
  });

  it('rejects a wrong signature, a signature made with another secret, and garbage', () => {
    const body = JSON.stringify(example('textFromUser'));
    const other = signLineBody(body, 'another-secret');
    const flipped = `${signLineBody(body, SECRET).slice(0, 10)}A${signLineBody(body, SECRET).slice(11)}`;
    for (const signature of [other, flipped, 'not-a-signature', `${signLineBody(body, SECRET)}x`, '']) {
      const request = signedLineRequest(body, SECRET, { signature });
      expect(() => verifyLineRequest(request, SECRET), signature).toThrow(UnauthenticatedError);
    }
  });

  it('rejects a re-serialised body: same JSON value, different bytes', () => {
    const vector = signatureVectors().find((v) => v.name.startsWith('postbackChoiceInGroup (compact'));
    if (!vector) throw new Error('vector missing');
    const pretty = JSON.stringify(JSON.parse(vector.body), null, 2);
    const request = signedLineRequest(pretty, vector.channelSecret, { signature: vector.signature });
    expect(() => verifyLineRequest(request, vector.channelSecret)).toThrow(/does not match/);
    // Unicode escaping is another re-serialisation that breaks it.
    const escaped = vector.body.replace(
      /[^ -~]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    expect(JSON.parse(escaped)).toEqual(JSON.parse(vector.body));
    expect(() =>
      verifyLineRequest(
        signedLineRequest(escaped, vector.channelSecret, { signature: vector.signature }),
        vector.channelSecret,
      ),
    ).toThrow(UnauthenticatedError);
  });

  it('refuses everything when no channel secret is configured', () => {
    const request = signedLineRequest(example('textFromUser'), '');
    expect(() => verifyLineRequest(request, '')).toThrow(/not configured/);
  });

  it('reads the header case-insensitively through RawRequest', () => {
    const body = JSON.stringify(example('connectivityCheck'));
    const signature = signLineBody(body, SECRET);
    const request = {
      body,
      header: (name: string) => (name.toLowerCase() === 'x-line-signature' ? signature : undefined),
      now: new Date(),
    };
    expect(verifyLineRequest(request, SECRET)).toEqual({ destination: expect.any(String), events: [] });
  });

  it('answers 400 for a signed body that is not a JSON object', () => {
    for (const body of ['not json', '[1,2]', 'null', '"text"']) {
      const request = signedLineRequest(body, SECRET);
      expect(() => verifyLineRequest(request, SECRET), body).toThrow(InvalidInputError);
    }
  });

  it('checks the signature before parsing: an unsigned malformed body is a 401, not a 400', () => {
    const request = signedLineRequest('not json', SECRET, { signature: signLineBody('other', SECRET) });
    expect(() => verifyLineRequest(request, SECRET)).toThrow(UnauthenticatedError);
  });
});
