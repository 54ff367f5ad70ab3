// on-headers ships no types; the one call this library makes.
declare module 'on-headers' {
  import type { ServerResponse } from 'node:http';

  function onHeaders(res: ServerResponse, listener: (this: ServerResponse) => void): void;
  export = onHeaders;
}
